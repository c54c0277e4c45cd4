// Subcommand registration for the `perimeter` binary. Each Register*
// function adds its subcommands to `app`; a subcommand's callback stores its
// outcome in `*result` (exit code or error), so errors stay values until
// main() turns them into an exit status and a message on stderr.
#ifndef PERIMETER_CLI_COMMANDS_H_
#define PERIMETER_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "perimeter/base/result.h"

namespace perimeter::cli {

void RegisterNoiseCommands(CLI::App& app, Result<int>* result);
// `perimeter attest show`: print an SEV-SNP attestation report.
void RegisterAttestCommands(CLI::App& app, Result<int>* result);
// `perimeter sim init|report`: the INSECURE simulated SEV-SNP platform.
void RegisterSimCommands(CLI::App& app, Result<int>* result);
// `perimeter serve`: the workload server.
void RegisterServeCommands(CLI::App& app, Result<int>* result);
// `perimeter demo`: the main job (demo_command.cc).
void RegisterDemoCommand(CLI::App& app, Result<int>* result);
// `perimeter verify` and `perimeter client ...` (client agent).
void RegisterClientCommands(CLI::App& app, Result<int>* result);

}  // namespace perimeter::cli

#endif  // PERIMETER_CLI_COMMANDS_H_
