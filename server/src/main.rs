use std::process::ExitCode;

fn main() -> ExitCode {
    candor_server::cli::main()
}
