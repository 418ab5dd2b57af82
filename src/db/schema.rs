//! The diesel schema, written by hand in the types both backends share.

diesel::table! {
    centers (code) {
        code -> Text,
        name -> Text,
        time_zone -> Text,
    }
}

diesel::table! {
    sites (code) {
        code -> Text,
        center_code -> Text,
        name -> Text,
        kind -> Text,
        hospital -> Text,
        city -> Text,
        address -> Text,
        departement -> Text,
        latitude -> Double,
        longitude -> Double,
    }
}

diesel::table! {
    staffs (code) {
        code -> Text,
        center_code -> Text,
        name -> Text,
        topics -> Text,
        rrule -> Text,
        dtstart -> Text,
        start_time -> Text,
        duration_minutes -> BigInt,
        capacity -> BigInt,
        cutoff_minutes -> BigInt,
        quorum_specialties -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        full_name -> Text,
        rpps -> Text,
        specialty -> Text,
        site_code -> Nullable<Text>,
        phone -> Nullable<Text>,
        language -> Text,
        status -> Text,
        created_at -> Timestamp,
        email_verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Text,
        role -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        family_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> BigInt,
        last_error -> Nullable<Text>,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Nullable<Text>,
        outcome -> Text,
        client_addr -> Nullable<Text>,
        correlation_id -> Nullable<Text>,
    }
}

diesel::joinable!(sites -> centers (center_code));
diesel::joinable!(staffs -> centers (center_code));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    centers,
    sites,
    staffs,
    users,
    user_roles,
    email_tokens,
    refresh_tokens,
    outbox,
    audit_log,
);
