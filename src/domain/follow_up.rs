//! A follow-up request's form, prefilled from the request it follows up and the opinion's
//! recommendation: what the requester would otherwise type again.

use super::opinion::{OpinionDiagnosis, Recommendation};
use super::request_form::{RequestForm, SuspectedDiagnosis, Topic};

/// The form of a follow-up of `parent`, whose opinion retained `diagnosis`, made for
/// `recommendation` (none: the opinion as a whole), whose staff takes `staff_topics`: the
/// patient and the clinical content copied (the suspected diagnosis replaced by the one
/// retained), the question prefilled from the recommendation, the topic the one the parent had
/// if the recommendation's staff takes it, else that staff's first topic. The clinical summary
/// and the urgency are the requester's to write: they describe the situation now.
pub fn form(
    parent: &RequestForm,
    diagnosis: &OpinionDiagnosis,
    recommendation: Option<&Recommendation>,
    staff_topics: Option<&[Topic]>,
) -> RequestForm {
    RequestForm {
        topic: topic(parent.topic, staff_topics),
        urgency: None,
        patient: parent.patient.clone(),
        question: recommendation.map(|r| r.text.clone()),
        clinical_summary: None,
        family_history: parent.family_history.clone(),
        growth: parent.growth.clone(),
        suspected_diagnosis: SuspectedDiagnosis {
            text: Some(diagnosis.text.clone()),
            orpha_code: diagnosis.orpha_code.clone(),
        },
        genetic_tests: parent.genetic_tests.clone(),
        hpo_terms: parent.hpo_terms.clone(),
        consent_obtained: parent.consent_obtained,
    }
}

/// The topic that routes the follow-up to the recommended staff (`staff_topics`: the topics it
/// takes), keeping the parent's where that staff takes it.
fn topic(parent: Option<Topic>, staff_topics: Option<&[Topic]>) -> Option<Topic> {
    match staff_topics {
        Some(topics) if parent.is_some_and(|t| topics.contains(&t)) => parent,
        Some(topics) => topics.first().copied().or(parent),
        None => parent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_topic_follows_the_recommended_staff() {
        let genomic = [Topic::GenomeSequencing];
        let national = [Topic::Diagnosis, Topic::Treatment];
        assert_eq!(topic(Some(Topic::Diagnosis), None), Some(Topic::Diagnosis));
        assert_eq!(
            topic(Some(Topic::Diagnosis), Some(&genomic)),
            Some(Topic::GenomeSequencing)
        );
        assert_eq!(
            topic(Some(Topic::Treatment), Some(&national)),
            Some(Topic::Treatment),
            "the same staff: the parent's topic"
        );
        assert_eq!(topic(Some(Topic::Fetal), Some(&[])), Some(Topic::Fetal));
    }
}
