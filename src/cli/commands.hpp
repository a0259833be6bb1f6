// The flashtp tool's subcommands; each returns the process exit code.
#pragma once

namespace flashtp::cli {

int eval(int argc, char** argv);
int bench(int argc, char** argv);
int info(int argc, char** argv);
int convert(int argc, char** argv);

}  // namespace flashtp::cli
