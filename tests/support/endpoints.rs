//! The API's endpoints by name, so that a test reads as what its users do:
//! `app.schedule(&id, &meeting, &coordinator).await`. Each answers a [`Call`]: awaited, its
//! [`Answer`](super::api::Answer) whatever the status; the token of the caller comes last.
//!
//! A few steps that must succeed for the story to go on (a draft made, a request submitted, a
//! sign-in with its second factor) assert their status and answer what the story needs.

use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

use super::api::{Answer, Api, Call};
use super::cast::TOTP_SECRET;
use super::totp::TotpSteps;

impl Api {
    // ------------------------------------------------------------ accounts and sessions

    pub fn register(&self, form: impl Serialize) -> Call {
        self.post("/api/v1/auth/register", None, form)
    }

    pub fn verify_email(&self, token: &str) -> Call {
        self.post("/api/v1/auth/verify-email", None, json!({"token": token}))
    }

    /// The password step of a sign-in.
    pub fn login(&self, email: &str, password: &str) -> Call {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
    }

    /// The second step of a sign-in: the challenge of the password step and a code.
    pub fn login_mfa(&self, mfa_token: impl Serialize, code: &str) -> Call {
        self.post(
            "/api/v1/auth/login/mfa",
            None,
            json!({"mfa_token": mfa_token, "code": code}),
        )
    }

    pub fn refresh(&self, refresh_token: impl Serialize) -> Call {
        self.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh_token}),
        )
    }

    pub fn logout(&self, refresh_token: impl Serialize, token: Option<&str>) -> Call {
        self.post(
            "/api/v1/auth/logout",
            token,
            json!({"refresh_token": refresh_token}),
        )
    }

    pub fn password_reset(&self, email: &str) -> Call {
        self.post("/api/v1/auth/password-reset", None, json!({"email": email}))
    }

    pub fn confirm_password_reset(&self, token: &str, password: &str) -> Call {
        self.post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"token": token, "password": password}),
        )
    }

    pub fn me(&self, token: Option<&str>) -> Call {
        self.get("/api/v1/me", token)
    }

    /// Starts the enrolment of an authenticator (answers its secret).
    pub fn enrol_totp(&self, token: &str) -> Call {
        self.post("/api/v1/me/mfa/totp", Some(token), json!({}))
    }

    /// Confirms the enrolment with a first code (answers the recovery codes).
    pub fn confirm_totp(&self, code: &str, token: &str) -> Call {
        self.post(
            "/api/v1/me/mfa/totp/confirm",
            Some(token),
            json!({"code": code}),
        )
    }

    pub fn remove_totp(&self, code: &str, token: &str) -> Call {
        self.delete("/api/v1/me/mfa/totp", Some(token), json!({"code": code}))
    }

    // ------------------------------------------------------------ administration

    pub fn set_roles(&self, user: &str, roles: &[&str], token: &str) -> Call {
        self.put(
            &format!("/api/v1/admin/users/{user}/roles"),
            Some(token),
            json!({"roles": roles}),
        )
    }

    pub fn update_user(&self, user: &str, changes: impl Serialize, token: &str) -> Call {
        self.patch(&format!("/api/v1/admin/users/{user}"), Some(token), changes)
    }

    /// Signs in, answering the TOTP challenge of a staff account (provisioned with
    /// [`TOTP_SECRET`]) with a code of a step the account has not used: answers the token pair.
    pub async fn sign_in(&self, email: &str, password: &str, totp: &TotpSteps) -> Value {
        let answer = self.login(email, password).await;
        assert_eq!(answer.status, 200, "login {email}: {}", answer.text);
        if answer.body["mfa_required"] != json!(true) {
            return answer.body;
        }
        let code = totp.code(TOTP_SECRET, &email.to_lowercase()).await;
        let answer = self.login_mfa(&answer.body["mfa_token"], &code).await;
        assert_eq!(
            answer.status, 200,
            "second factor of {email}: {}",
            answer.text
        );
        answer.body
    }

    // ------------------------------------------------------------ requests

    pub fn create_request(&self, form: impl Serialize, token: &str) -> Call {
        self.post("/api/v1/requests", Some(token), form)
    }

    pub fn get_request(&self, id: &str, token: &str) -> Call {
        self.get(&format!("/api/v1/requests/{id}"), Some(token))
    }

    /// A merge patch of the form (`"version"` in it, or an `If-Match` header, for the check).
    pub fn update_request(&self, id: &str, changes: impl Serialize, token: &str) -> Call {
        self.patch(&format!("/api/v1/requests/{id}"), Some(token), changes)
    }

    /// An action on a request (`submit`, `withdraw`, …) with its body.
    fn act(&self, id: &str, action: &str, body: Value, token: &str) -> Call {
        self.post(
            &format!("/api/v1/requests/{id}/{action}"),
            Some(token),
            body,
        )
    }

    pub fn submit(&self, id: &str, token: &str) -> Call {
        self.act(id, "submit", json!({}), token)
    }

    pub fn withdraw(&self, id: &str, token: &str) -> Call {
        self.act(id, "withdraw", json!({}), token)
    }

    pub fn request_info(&self, id: &str, message: &str, token: &str) -> Call {
        self.act(id, "request-info", json!({"message": message}), token)
    }

    pub fn reject(&self, id: &str, reason: &str, token: &str) -> Call {
        self.act(id, "reject", json!({"reason": reason}), token)
    }

    pub fn schedule(&self, id: &str, meeting: &str, token: &str) -> Call {
        self.act(id, "schedule", json!({"meeting_id": meeting}), token)
    }

    /// Schedules past the meeting's capacity, by explicit choice.
    pub fn schedule_over_capacity(&self, id: &str, meeting: &str, token: &str) -> Call {
        self.act(
            id,
            "schedule",
            json!({"meeting_id": meeting, "allow_over_capacity": true}),
            token,
        )
    }

    pub fn post_message(&self, id: &str, body: &str, token: &str) -> Call {
        self.act(id, "messages", json!({"body": body}), token)
    }

    pub fn messages(&self, id: &str, token: &str) -> Call {
        self.get(&format!("/api/v1/requests/{id}/messages"), Some(token))
    }

    pub fn put_opinion(&self, id: &str, opinion: impl Serialize, token: &str) -> Call {
        self.put(
            &format!("/api/v1/requests/{id}/opinion"),
            Some(token),
            opinion,
        )
    }

    pub fn get_opinion(&self, id: &str, token: &str) -> Call {
        self.get(&format!("/api/v1/requests/{id}/opinion"), Some(token))
    }

    pub fn deliver(&self, id: &str, token: &str) -> Call {
        self.act(id, "opinion/deliver", json!({}), token)
    }

    /// Prepares the follow-up of request `id` (`{"recommendation": i}`, or `{}`).
    pub fn follow_up(&self, id: &str, body: Value, token: &str) -> Call {
        self.act(id, "follow-ups", body, token)
    }

    /// Uploads `file` as an attachment of request `id` (a multipart form of one `file` part).
    pub fn upload(&self, id: &str, file: reqwest::multipart::Part, token: &str) -> Call {
        let form = reqwest::multipart::Form::new().part("file", file);
        let path = format!("/api/v1/requests/{id}/attachments");
        Call::from(
            self.request(Method::POST, &path, Some(token))
                .builder()
                .multipart(form),
        )
    }

    pub fn attachment(&self, id: &str, attachment: &str, token: &str) -> Call {
        let path = format!("/api/v1/requests/{id}/attachments/{attachment}");
        self.get(&path, Some(token))
    }

    // ------------------------------------------------------------ staffs and meetings

    /// An extraordinary meeting of `staff`.
    pub fn create_meeting(&self, staff: &str, starts_at: &str, capacity: i64, token: &str) -> Call {
        self.post(
            &format!("/api/v1/staffs/{staff}/meetings"),
            Some(token),
            json!({"starts_at": starts_at, "capacity": capacity}),
        )
    }

    pub fn meetings(&self, staff: &str, token: &str) -> Call {
        self.get(&format!("/api/v1/staffs/{staff}/meetings"), Some(token))
    }

    pub fn set_experts(&self, staff: &str, user_ids: &[&str], token: &str) -> Call {
        self.put(
            &format!("/api/v1/staffs/{staff}/experts"),
            Some(token),
            json!({"user_ids": user_ids}),
        )
    }

    /// A meeting and its agenda.
    pub fn agenda(&self, meeting: &str, token: &str) -> Call {
        self.get(&format!("/api/v1/meetings/{meeting}"), Some(token))
    }

    pub fn update_meeting(&self, meeting: &str, changes: impl Serialize, token: &str) -> Call {
        self.patch(&format!("/api/v1/meetings/{meeting}"), Some(token), changes)
    }

    /// Records that the meeting took place: who was there, which requests were discussed.
    pub fn hold(&self, meeting: &str, record: impl Serialize, token: &str) -> Call {
        self.post(
            &format!("/api/v1/meetings/{meeting}/held"),
            Some(token),
            record,
        )
    }

    // ------------------------------------------------------------ steps that must succeed

    /// A new draft of `form`: asserts 201 and answers it (`id()`, `body["reference"]`).
    pub async fn draft(&self, form: impl Serialize, token: &str) -> Answer {
        let answer = self.create_request(form, token).await;
        assert_eq!(answer.status, 201, "create: {}", answer.text);
        answer
    }

    /// Submits the draft `id`: asserts 200 and answers the submitted request.
    pub async fn submit_draft(&self, id: &str, token: &str) -> Answer {
        let answer = self.submit(id, token).await;
        assert_eq!(answer.status, 200, "submit: {}", answer.text);
        answer
    }
}
