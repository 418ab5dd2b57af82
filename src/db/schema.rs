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
        totp_secret -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
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
        amr -> Text,
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
        sealed_link -> Nullable<Text>,
    }
}

diesel::table! {
    throttle_windows (key) {
        key -> Text,
        failures -> BigInt,
        started_at -> Timestamp,
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
        seq -> Nullable<BigInt>,
        prev_hash -> Nullable<Text>,
        hash -> Nullable<Text>,
    }
}

diesel::table! {
    audit_chain (id) {
        id -> BigInt,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    recovery_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_challenges (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        failures -> BigInt,
    }
}

diesel::joinable!(sites -> centers (center_code));
diesel::joinable!(staffs -> centers (center_code));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::table! {
    staff_experts (staff_code, user_id) {
        staff_code -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    meetings (id) {
        id -> Text,
        staff_code -> Text,
        starts_at -> Timestamp,
        duration_minutes -> BigInt,
        status -> Text,
        capacity -> BigInt,
        video_url -> Nullable<Text>,
        occurrence -> Nullable<Text>,
        attendance -> Nullable<Text>,
        quorum_met -> Nullable<Bool>,
        held_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        sequence -> BigInt,
    }
}

diesel::table! {
    calendar_feeds (user_id) {
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reference_counters (center_code, year) {
        center_code -> Text,
        year -> BigInt,
        last_value -> BigInt,
    }
}

diesel::table! {
    requests (id) {
        id -> Text,
        reference -> Text,
        center_code -> Text,
        requester_id -> Text,
        status -> Text,
        version -> BigInt,
        topic -> Nullable<Text>,
        urgency -> Text,
        form -> Text,
        staff_code -> Nullable<Text>,
        proposed_meeting_id -> Nullable<Text>,
        meeting_id -> Nullable<Text>,
        rejection_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        discussed_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        submitted_month -> Nullable<Text>,
        site_code -> Nullable<Text>,
        discussed_days -> Nullable<BigInt>,
        delivered_days -> Nullable<BigInt>,
        parent_id -> Nullable<Text>,
        parent_recommendation -> Nullable<BigInt>,
    }
}

diesel::table! {
    request_events (id) {
        id -> Text,
        request_id -> Text,
        at -> Timestamp,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor_id -> Nullable<Text>,
        note -> Nullable<Text>,
        center_code -> Text,
        staff_code -> Nullable<Text>,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        request_id -> Text,
        author_id -> Text,
        author_role -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        request_id -> Text,
        uploaded_by -> Text,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    opinions (id) {
        id -> Text,
        request_id -> Text,
        version -> BigInt,
        status -> Text,
        content -> Text,
        author_id -> Text,
        validated_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key, endpoint) {
        user_id -> Text,
        idempotency_key -> Text,
        endpoint -> Text,
        request_hash -> Text,
        response_status -> BigInt,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(meetings -> staffs (staff_code));
diesel::joinable!(requests -> users (requester_id));
diesel::joinable!(request_events -> requests (request_id));
diesel::joinable!(messages -> requests (request_id));
diesel::joinable!(messages -> users (author_id));
diesel::joinable!(attachments -> requests (request_id));
diesel::joinable!(opinions -> requests (request_id));

diesel::table! {
    web_sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        awaiting_second_factor -> Bool,
        second_factor -> Bool,
        failures -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    follow_up_dues (request_id, recommendation) {
        request_id -> Text,
        recommendation -> BigInt,
        center_code -> Text,
        requester_id -> Text,
        staff_code -> Nullable<Text>,
        due_on -> Date,
        follow_up_id -> Nullable<Text>,
        follow_up_submitted_at -> Nullable<Timestamp>,
        follow_up_in_time -> Nullable<Bool>,
        reminded_before_at -> Nullable<Timestamp>,
        reminded_on_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(follow_up_dues -> requests (request_id));
diesel::joinable!(web_sessions -> users (user_id));
diesel::joinable!(calendar_feeds -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    calendar_feeds,
    centers,
    follow_up_dues,
    sites,
    user_roles,
    email_tokens,
    refresh_tokens,
    outbox,
    audit_log,
    staff_experts,
    meetings,
    reference_counters,
    requests,
    request_events,
    messages,
    attachments,
    opinions,
    idempotency_keys,
    users,
    staffs,
    throttle_windows,
    web_sessions,
);
