use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    consilium::telemetry::init();
    match consilium::cli::run(consilium::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("consilium: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
