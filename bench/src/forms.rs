//! Plausible request forms (the service's own `RequestForm` type, so the stored JSON has the
//! exact shape `POST /api/v1/requests` writes) and the short texts around them.

use chrono::{Duration, NaiveDate};
use consilium::domain::request_form::{Patient, RequestForm, Sex, SuspectedDiagnosis, Topic, Urgency};
use rand::Rng;
use rand::seq::IndexedRandom;

/// Topics with their share of the requests (most are diagnostic questions for the weekly RCP).
pub const TOPICS: [(Topic, f64); 7] = [
    (Topic::Diagnosis, 0.45),
    (Topic::Treatment, 0.15),
    (Topic::Molecular, 0.14),
    (Topic::Radiology, 0.09),
    (Topic::OccipitoCervical, 0.06),
    (Topic::GenomeSequencing, 0.06),
    (Topic::Fetal, 0.05),
];

pub fn pick_topic(rng: &mut impl Rng) -> Topic {
    let mut x = rng.random::<f64>();
    for (topic, share) in TOPICS {
        if x < share {
            return topic;
        }
        x -= share;
    }
    Topic::Diagnosis
}

const QUESTIONS: &[&str] = &[
    "Quel diagnostic évoquez-vous devant ce tableau de dysplasie squelettique ?",
    "Faut-il proposer un séquençage de génome dans le cadre du PFMG 2025 ?",
    "Quelle prise en charge orthopédique proposer pour ces déformations des membres inférieurs ?",
    "Un traitement par bisphosphonates est-il indiqué compte tenu des fractures répétées ?",
    "Comment interpréter le variant de signification incertaine retrouvé sur le panel ?",
    "Une surveillance de la charnière cervico-occipitale est-elle nécessaire et à quel rythme ?",
    "Les images radiologiques sont-elles compatibles avec une achondroplasie ?",
    "Quelle conduite tenir devant ces os longs courts découverts à l'échographie du 2e trimestre ?",
    "Which skeletal dysplasia is most likely given the radiological survey?",
    "Is vosoritide indicated for this child with achondroplasia?",
    "Should the family be offered segregation analysis of the FGFR3 variant?",
];

const FINDINGS: &[&str] = &[
    "Petite taille disharmonieuse à -3,1 DS avec rhizomélie marquée.",
    "Macrocéphalie relative, ensellure nasale et bosses frontales.",
    "Genu varum bilatéral évolutif depuis l'acquisition de la marche.",
    "Trois fractures des os longs avant l'âge de quatre ans, sclérotiques bleutées.",
    "Brachydactylie de type E avec métacarpiens courts.",
    "Cyphose thoraco-lombaire et hyperlaxité ligamentaire.",
    "Sténose du foramen magnum suspectée sur l'IRM cérébrale.",
    "Os longs courts et incurvés, thorax étroit à l'échographie de 22 SA.",
    "Retard d'âge osseux de deux ans, métaphyses évasées et irrégulières.",
    "Scoliose de 35 degrés, platyspondylie sur les clichés du rachis.",
    "Short limbs with trident hands on the skeletal survey.",
    "Recurrent otitis and obstructive sleep apnoea, polysomnography pending.",
    "Normal psychomotor development, normal hearing tests.",
    "Hip dysplasia operated at 18 months, limited abduction since.",
];

const FAMILY: &[&str] = &[
    "Pas d'antécédent familial notable, parents non apparentés.",
    "Père de petite taille (155 cm), non exploré.",
    "Consanguinité au premier degré, une sœur atteinte.",
    "Mère suivie pour ostéogenèse imparfaite de type I.",
    "No family history; non-consanguineous parents.",
];

const TESTS: &[&str] = &[
    "Panel dysplasies osseuses (NGS, 400 gènes) : négatif.",
    "FGFR3 c.1138G>A recherché : absent.",
    "CGH-array normale (arr(1-22,X)x2).",
    "COL1A1/COL1A2 : variant faux-sens de signification incertaine.",
    "Exome en trio en cours au laboratoire de Necker.",
    "Karyotype 46,XX normal.",
];

const DIAGNOSES: &[(&str, &str)] = &[
    ("Achondroplasie", "ORPHA:15"),
    ("Hypochondroplasie", "ORPHA:429"),
    ("Ostéogenèse imparfaite", "ORPHA:666"),
    ("Dysplasie spondylo-épiphysaire congénitale", "ORPHA:94068"),
    ("Pseudoachondroplasie", "ORPHA:750"),
    ("Dysplasie diastrophique", "ORPHA:628"),
    ("Dyschondrostéose de Léri-Weill", "ORPHA:240"),
    ("Hypophosphatasie", "ORPHA:436"),
];

const HPO: &[&str] = &[
    "HP:0004322", "HP:0003498", "HP:0002983", "HP:0000256", "HP:0002007", "HP:0000470",
    "HP:0002812", "HP:0002857", "HP:0000592", "HP:0002659", "HP:0001385", "HP:0002650",
    "HP:0008873", "HP:0003521", "HP:0000926", "HP:0001249",
];

const MESSAGES: &[&str] = &[
    "Pourriez-vous nous transmettre les radiographies du squelette complet ?",
    "Merci de préciser la courbe de croissance et la taille des parents.",
    "Le compte rendu génétique complet est-il disponible ?",
    "Could you upload the MRI of the craniocervical junction?",
];

const ANSWERS: &[&str] = &[
    "Les clichés ont été déposés, la courbe de croissance est jointe.",
    "Taille du père 168 cm, de la mère 152 cm ; courbe ci-jointe.",
    "Compte rendu transmis par le laboratoire ce jour.",
    "The MRI has been uploaded, report attached.",
];

const REASONS: &[&str] = &[
    "Demande hors du champ des maladies osseuses constitutionnelles : orientation vers le centre de compétence de rhumatologie.",
    "Pathologie acquise (ostéoporose cortisonique) : relève du suivi local.",
    "Doublon d'une demande déjà discutée en RCP.",
];

const RECOMMENDATIONS: &[&str] = &[
    "Séquençage du gène FGFR3 puis consultation de génétique.",
    "IRM de la charnière cervico-occipitale à 6 mois.",
    "Suivi auxologique semestriel en centre de compétence.",
    "Avis orthopédique pour ostéotomie de correction.",
    "Bilan phosphocalcique et dosage des phosphatases alcalines.",
];

pub fn message(rng: &mut impl Rng) -> String {
    MESSAGES.choose(rng).unwrap().to_string()
}

pub fn answer(rng: &mut impl Rng) -> String {
    ANSWERS.choose(rng).unwrap().to_string()
}

pub fn rejection_reason(rng: &mut impl Rng) -> String {
    REASONS.choose(rng).unwrap().to_string()
}

fn sentences(rng: &mut impl Rng, bank: &[&str], min: usize, max: usize) -> String {
    let n = rng.random_range(min..=max);
    (0..n)
        .map(|_| *bank.choose(rng).unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

fn initials(rng: &mut impl Rng) -> String {
    let letter = |rng: &mut dyn rand::RngCore| (b'A' + (rng.next_u32() % 26) as u8) as char;
    format!("{}{}", letter(rng), letter(rng))
}

/// A form as a requester fills it in on `today`: `complete` ones can be submitted.
pub fn form(rng: &mut impl Rng, topic: Topic, urgency: Urgency, today: NaiveDate, complete: bool) -> RequestForm {
    let keep = |rng: &mut dyn rand::RngCore, share: f64| complete || (rng.next_u32() as f64 / u32::MAX as f64) < share;
    let fetal = topic == Topic::Fetal;
    let birth_date = if fetal {
        None
    } else {
        let days = if rng.random::<f64>() < 0.7 {
            rng.random_range(30..18 * 365)
        } else {
            rng.random_range(18 * 365..80 * 365)
        };
        Some(today - Duration::days(days))
    };
    let diagnosis = (rng.random::<f64>() < 0.6).then(|| *DIAGNOSES.choose(rng).unwrap());
    let hpo_count = rng.random_range(1..=8);
    RequestForm {
        topic: Some(topic),
        urgency: Some(urgency),
        patient: Patient {
            initials: keep(rng, 0.8).then(|| initials(rng)),
            sex: keep(rng, 0.8).then(|| *[Sex::Female, Sex::Male].choose(rng).unwrap()),
            birth_date: if keep(rng, 0.7) { birth_date } else { None },
            gestational_age_weeks: fetal.then(|| rng.random_range(14..=38)),
            local_id: (rng.random::<f64>() < 0.5).then(|| format!("IPP{:08}", rng.random_range(0..100_000_000))),
        },
        question: keep(rng, 0.7).then(|| QUESTIONS.choose(rng).unwrap().to_string()),
        clinical_summary: keep(rng, 0.6).then(|| sentences(rng, FINDINGS, 3, 9)),
        family_history: (rng.random::<f64>() < 0.6).then(|| sentences(rng, FAMILY, 1, 2)),
        growth: (rng.random::<f64>() < 0.7).then(|| {
            format!(
                "Taille {:.1} DS, poids {:.1} DS, PC {:+.1} DS.",
                -rng.random_range(0.5..5.0),
                -rng.random_range(0.0..3.0),
                rng.random_range(-1.0..3.0)
            )
        }),
        suspected_diagnosis: SuspectedDiagnosis {
            text: diagnosis.map(|(text, _)| text.to_owned()),
            orpha_code: diagnosis.map(|(_, code)| code.to_owned()),
        },
        genetic_tests: (rng.random::<f64>() < 0.5).then(|| sentences(rng, TESTS, 1, 3)),
        hpo_terms: HPO.choose_multiple(rng, hpo_count).map(|t| t.to_string()).collect(),
        consent_obtained: complete || rng.random::<f64>() < 0.5,
    }
}

/// The opinion of a meeting (the JSON of `consilium::domain::opinion::OpinionContent`).
pub fn opinion(rng: &mut impl Rng) -> consilium::domain::opinion::OpinionContent {
    use consilium::domain::opinion::*;
    let (text, code) = *DIAGNOSES.choose(rng).unwrap();
    let statuses = [DiagnosisStatus::Confirmed, DiagnosisStatus::Probable, DiagnosisStatus::Unsolved];
    let kinds = [
        RecommendationKind::GeneticTest,
        RecommendationKind::Imaging,
        RecommendationKind::FollowUp,
        RecommendationKind::Surgery,
        RecommendationKind::Treatment,
    ];
    OpinionContent {
        summary: sentences(rng, FINDINGS, 2, 5),
        diagnosis: OpinionDiagnosis {
            text: text.to_owned(),
            orpha_code: Some(code.to_owned()),
            status: *statuses.choose(rng).unwrap(),
        },
        recommendations: (0..rng.random_range(1..=3))
            .map(|_| Recommendation {
                kind: *kinds.choose(rng).unwrap(),
                text: RECOMMENDATIONS.choose(rng).unwrap().to_string(),
                site_code: None,
                due_on: None,
                staff: None,
            })
            .collect(),
        references: Vec::new(),
    }
}

const FIRST: &[&str] = &[
    "jeanne", "pierre", "marie", "louis", "camille", "hugo", "lea", "arthur", "chloe", "jules",
    "manon", "paul", "ines", "lucas", "sarah", "nathan", "emma", "gabriel", "alice", "raphael",
    "claire", "antoine", "julie", "thomas", "anne", "nicolas", "sophie", "olivier", "helene", "marc",
];
const LAST: &[&str] = &[
    "martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand", "leroy",
    "moreau", "simon", "laurent", "lefebvre", "michel", "garcia", "david", "bertrand", "roux",
    "vincent", "fournier", "morel", "girard", "andre", "mercier", "dupont", "lambert", "bonnet",
    "francois", "martinez", "legrand",
];
pub const SPECIALTIES: &[&str] = &[
    "Pediatrics", "Medical genetics", "Pediatric orthopedics", "Radiology", "Endocrinology",
    "Rheumatology", "Fetal medicine", "Neurosurgery",
];

/// A person's (first, last) names, lower case ASCII.
pub fn name(rng: &mut impl Rng) -> (&'static str, &'static str) {
    (FIRST.choose(rng).unwrap(), LAST.choose(rng).unwrap())
}

pub fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
