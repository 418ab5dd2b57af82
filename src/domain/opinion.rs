//! The RCP's opinion on a request, and the attendance of the meeting that gave it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::request_form::is_orpha_code;
use crate::domain::FieldError;

/// Where an opinion version stands: a draft is being written (and read only by the staff);
/// a delivered one is frozen and sent to the requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpinionStatus {
    Draft,
    Delivered,
}

crate::named_enum!(OpinionStatus {
    Draft => "draft",
    Delivered => "delivered",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisStatus {
    Confirmed,
    Probable,
    Unsolved,
}

crate::named_enum!(DiagnosisStatus {
    Confirmed => "confirmed",
    Probable => "probable",
    Unsolved => "unsolved",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationKind {
    GeneticTest,
    Imaging,
    Treatment,
    Surgery,
    FollowUp,
    Referral,
    ClinicalTrial,
    Other,
}

crate::named_enum!(RecommendationKind {
    GeneticTest => "genetic_test",
    Imaging => "imaging",
    Treatment => "treatment",
    Surgery => "surgery",
    FollowUp => "follow_up",
    Referral => "referral",
    ClinicalTrial => "clinical_trial",
    Other => "other",
});

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recommendation {
    pub kind: RecommendationKind,
    pub text: String,
    /// For a referral: the network site the patient is referred to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_code: Option<String>,
    /// When the result or the re-evaluation is expected (not in the past at delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
    /// The staff whose meeting should see the follow-up (a staff code of the network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "fmg2025")]
    pub staff: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpinionDiagnosis {
    pub text: String,
    #[serde(default)]
    pub orpha_code: Option<String>,
    pub status: DiagnosisStatus,
}

/// What the meeting concluded (`PUT /requests/{id}/opinion`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpinionContent {
    pub summary: String,
    pub diagnosis: OpinionDiagnosis,
    #[serde(default)]
    pub recommendations: Vec<Recommendation>,
    #[serde(default)]
    pub references: Vec<String>,
}

/// One person who attended a meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub name: String,
    pub specialty: String,
    pub site_code: String,
}

pub const MIN_PARTICIPANTS: usize = 2;

fn bounded(text: &str, field: String, max: usize, required: bool, errors: &mut Vec<FieldError>) {
    if required && text.trim().is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if text.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

impl OpinionContent {
    /// Every invalid field; `site_exists` and `staff_exists` tell whether a referral's site
    /// and a recommendation's staff are in the network.
    pub fn check(
        &self,
        site_exists: impl Fn(&str) -> bool,
        staff_exists: impl Fn(&str) -> bool,
    ) -> Vec<FieldError> {
        let mut errors = Vec::new();
        bounded(&self.summary, "summary".into(), 10_000, true, &mut errors);
        bounded(
            &self.diagnosis.text,
            "diagnosis.text".into(),
            500,
            true,
            &mut errors,
        );
        if let Some(code) = &self.diagnosis.orpha_code
            && !is_orpha_code(code)
        {
            errors.push(FieldError::new(
                "diagnosis.orpha_code",
                "must be ORPHA:<digits>",
            ));
        }
        if self.recommendations.len() > 50 {
            errors.push(FieldError::new(
                "recommendations",
                "must hold at most 50 items",
            ));
        }
        for (i, recommendation) in self.recommendations.iter().enumerate() {
            bounded(
                &recommendation.text,
                format!("recommendations[{i}].text"),
                2_000,
                true,
                &mut errors,
            );
            match (&recommendation.kind, &recommendation.site_code) {
                (RecommendationKind::Referral, None) => errors.push(FieldError::new(
                    format!("recommendations[{i}].site_code"),
                    "a referral names a network site",
                )),
                (_, Some(site)) if !site_exists(site) => errors.push(FieldError::new(
                    format!("recommendations[{i}].site_code"),
                    "is not a site of the network",
                )),
                _ => {}
            }
            if let Some(staff) = &recommendation.staff
                && !staff_exists(staff)
            {
                errors.push(FieldError::new(
                    format!("recommendations[{i}].staff"),
                    "is not a staff of the network",
                ));
            }
        }
        if self.references.len() > 50 {
            errors.push(FieldError::new("references", "must hold at most 50 items"));
        }
        for (i, reference) in self.references.iter().enumerate() {
            bounded(
                reference,
                format!("references[{i}]"),
                500,
                true,
                &mut errors,
            );
        }
        errors
    }
}

impl OpinionContent {
    /// The due dates already past on `today` (checked at delivery: a draft may wait).
    pub fn check_due_dates(&self, today: NaiveDate) -> Vec<FieldError> {
        self.recommendations
            .iter()
            .enumerate()
            .filter(|(_, r)| r.due_on.is_some_and(|due| due < today))
            .map(|(i, _)| {
                FieldError::new(
                    format!("recommendations[{i}].due_on"),
                    "is in the past: set the date when the result or the re-evaluation is expected",
                )
            })
            .collect()
    }
}

/// Whether the attendance gathers at least `quorum` distinct specialties.
pub fn quorum_met(participants: &[Participant], quorum: i64) -> bool {
    let mut specialties: Vec<String> = participants
        .iter()
        .map(|p| p.specialty.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    specialties.sort();
    specialties.dedup();
    specialties.len() as i64 >= quorum
}

/// Every invalid participant field; at least two participants are needed.
pub fn check_participants(
    participants: &[Participant],
    site_exists: impl Fn(&str) -> bool,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if participants.len() < MIN_PARTICIPANTS {
        errors.push(FieldError::new(
            "participants",
            format!("at least {MIN_PARTICIPANTS} participants"),
        ));
    }
    if participants.len() > 100 {
        errors.push(FieldError::new("participants", "at most 100 participants"));
    }
    for (i, participant) in participants.iter().enumerate() {
        bounded(
            &participant.name,
            format!("participants[{i}].name"),
            200,
            true,
            &mut errors,
        );
        bounded(
            &participant.specialty,
            format!("participants[{i}].specialty"),
            100,
            true,
            &mut errors,
        );
        if !site_exists(&participant.site_code) {
            errors.push(FieldError::new(
                format!("participants[{i}].site_code"),
                "is not a site of the network",
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_are_serde_s() {
        for status in DiagnosisStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for kind in RecommendationKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    fn participant(specialty: &str) -> Participant {
        Participant {
            name: "Dr X".into(),
            specialty: specialty.into(),
            site_code: "necker".into(),
        }
    }

    #[test]
    fn the_quorum_counts_distinct_specialties() {
        let three = [
            participant("Genetics"),
            participant("genetics "),
            participant("Radiology"),
            participant("Orthopedics"),
        ];
        assert!(quorum_met(&three, 3));
        assert!(!quorum_met(&three[..3], 3));
    }

    #[test]
    fn a_referral_names_a_known_site() {
        let content: OpinionContent = serde_json::from_value(serde_json::json!({
            "summary": "s",
            "diagnosis": {"text": "Hypochondroplasia", "orpha_code": "ORPHA:429", "status": "probable"},
            "recommendations": [
                {"kind": "referral", "text": "Follow-up"},
                {"kind": "referral", "text": "Follow-up", "site_code": "atlantis"},
                {"kind": "genetic_test", "text": "FGFR3", "staff": "fmg2025", "due_on": "2026-01-10"},
                {"kind": "genetic_test", "text": "FGFR3", "staff": "atlantis"}
            ]
        }))
        .unwrap();
        assert_eq!(
            content.check_due_dates("2026-01-10".parse().unwrap()),
            [],
            "due today is not past"
        );
        let late: Vec<_> = content
            .check_due_dates("2026-01-11".parse().unwrap())
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(late, ["recommendations[2].due_on"]);
        let fields: Vec<_> = content
            .check(|site| site == "nancy", |staff| staff == "fmg2025")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "recommendations[0].site_code",
                "recommendations[1].site_code",
                "recommendations[3].staff"
            ]
        );
    }

    #[test]
    fn participants_need_two_and_known_sites() {
        let fields: Vec<_> = check_participants(&[participant("")], |s| s == "necker")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["participants", "participants[0].specialty"]);
    }
}
