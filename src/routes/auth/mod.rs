//! Accounts and sessions: register, verify e-mail, login, refresh, logout, password reset.

pub mod login;
pub mod login_mfa;
pub mod logout;
pub mod password_reset;
pub mod password_reset_confirm;
pub mod refresh;
pub mod register;
pub mod verify_email;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register::register)
        .service(verify_email::verify_email)
        .service(login::login)
        .service(login_mfa::login_mfa)
        .service(refresh::refresh)
        .service(logout::logout)
        .service(password_reset::password_reset)
        .service(password_reset_confirm::password_reset_confirm);
}
