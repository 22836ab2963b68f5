fn main() -> std::process::ExitCode {
    gilscope::cli::main()
}
