// perimeter: the Secure Perimeter command-line tool.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace {

constexpr const char* kDescription =
    "Secure Perimeter: attested workloads in AMD SEV-SNP confidential VMs, reached over "
    "Noise Pipes by clients that verify them first.";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(kDescription, "perimeter");
  app.set_version_flag("--version", std::string("perimeter ") + PERIMETER_VERSION);
  app.require_subcommand(1);
  perimeter::Result<int> result = 0;
  perimeter::cli::RegisterNoiseCommands(app, &result);
  perimeter::cli::RegisterAttestCommands(app, &result);
  perimeter::cli::RegisterSimCommands(app, &result);
  perimeter::cli::RegisterServeCommands(app, &result);
  perimeter::cli::RegisterDemoCommand(app, &result);
  perimeter::cli::RegisterClientCommands(app, &result);
  // CLI11 reports usage errors (and --help/--version) as exceptions; they
  // stop here, at the boundary.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!result.has_value()) {
    std::fprintf(stderr, "perimeter: %s\n", result.error().ToString().c_str());
    return 1;
  }
  return *result;
}
