//! `logtest`: a drop-in for `wazuh-logtest` and a ruleset test tool. Argument
//! parsing and wiring only (see `cli`); the engine is the `logtest` library.

mod cli;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
