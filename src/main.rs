//! The `knockoff` binary: parse the command line, set up tracing, run, exit.

fn main() {
    std::process::exit(knockoff::run::cli::main());
}
