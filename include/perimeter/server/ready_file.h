// WriteFileAtomically: how `perimeter serve` publishes its ready file
// (bound addresses, pid) without trusting the directory's other entries.
#ifndef PERIMETER_SERVER_READY_FILE_H_
#define PERIMETER_SERVER_READY_FILE_H_

#include <string>
#include <string_view>

#include "perimeter/base/status.h"

namespace perimeter::server {

// Writes `text` to `path` atomically: into a new file beside it named
// `path` + ".tmp." + 16 random hex digits, created with
// O_CREAT|O_EXCL|O_NOFOLLOW (never an existing file or a symlink someone
// planted), mode exactly 0644 (whatever the umask), fsynced, then renamed
// over `path` (a symlink at `path` is replaced, not followed). Readers see
// either the old file or the whole new one. The temporary file is removed on
// failure.
// Errors: kUnavailable "server.write_failed".
Status WriteFileAtomically(const std::string& path, std::string_view text);

}  // namespace perimeter::server

#endif  // PERIMETER_SERVER_READY_FILE_H_
