use clap::Parser;

/// glibc raises its mmap threshold after the first large free, after which every thread keeps
/// argon2's 19 MiB buffers resident: a storm of logins grew the process by hundreds of MB.
/// A fixed threshold keeps large buffers mmapped, so they go back to the system when freed.
fn give_large_buffers_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

fn main() -> std::process::ExitCode {
    give_large_buffers_back();
    run()
}

#[actix_web::main]
async fn run() -> std::process::ExitCode {
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
