//! The `knockoff` binary: parse the command line, set up tracing, run, exit.

fn main() {
    knockoff::run::memory::one_malloc_arena();
    std::process::exit(knockoff::run::cli::main());
}
