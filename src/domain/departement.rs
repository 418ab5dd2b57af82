//! French départements (metropolitan and overseas) with the coordinates of their prefecture,
//! used to rank a network's sites by distance from a referring physician's département.

/// A French département: INSEE code, name, prefecture coordinates (WGS84 degrees).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Departement {
    pub code: &'static str,
    pub name: &'static str,
    pub latitude: f64,
    pub longitude: f64,
}

/// Mean Earth radius (IUGG), in kilometres.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The 96 metropolitan départements (Corsica as 2A and 2B) and the 5 overseas ones,
/// in INSEE code order; each line ends with the prefecture the coordinates point at.
#[rustfmt::skip]
pub const DEPARTEMENTS: &[Departement] = &[
    Departement { code: "01", name: "Ain", latitude: 46.2052, longitude: 5.2255 }, // Bourg-en-Bresse
    Departement { code: "02", name: "Aisne", latitude: 49.5641, longitude: 3.6199 }, // Laon
    Departement { code: "03", name: "Allier", latitude: 46.5660, longitude: 3.3331 }, // Moulins
    Departement { code: "04", name: "Alpes-de-Haute-Provence", latitude: 44.0925, longitude: 6.2356 }, // Digne-les-Bains
    Departement { code: "05", name: "Hautes-Alpes", latitude: 44.5594, longitude: 6.0786 }, // Gap
    Departement { code: "06", name: "Alpes-Maritimes", latitude: 43.7102, longitude: 7.2620 }, // Nice
    Departement { code: "07", name: "Ardèche", latitude: 44.7353, longitude: 4.5992 }, // Privas
    Departement { code: "08", name: "Ardennes", latitude: 49.7621, longitude: 4.7263 }, // Charleville-Mézières
    Departement { code: "09", name: "Ariège", latitude: 42.9653, longitude: 1.6072 }, // Foix
    Departement { code: "10", name: "Aube", latitude: 48.2973, longitude: 4.0744 }, // Troyes
    Departement { code: "11", name: "Aude", latitude: 43.2130, longitude: 2.3491 }, // Carcassonne
    Departement { code: "12", name: "Aveyron", latitude: 44.3506, longitude: 2.5750 }, // Rodez
    Departement { code: "13", name: "Bouches-du-Rhône", latitude: 43.2965, longitude: 5.3698 }, // Marseille
    Departement { code: "14", name: "Calvados", latitude: 49.1829, longitude: -0.3707 }, // Caen
    Departement { code: "15", name: "Cantal", latitude: 44.9264, longitude: 2.4398 }, // Aurillac
    Departement { code: "16", name: "Charente", latitude: 45.6484, longitude: 0.1562 }, // Angoulême
    Departement { code: "17", name: "Charente-Maritime", latitude: 46.1603, longitude: -1.1511 }, // La Rochelle
    Departement { code: "18", name: "Cher", latitude: 47.0810, longitude: 2.3988 }, // Bourges
    Departement { code: "19", name: "Corrèze", latitude: 45.2671, longitude: 1.7706 }, // Tulle
    Departement { code: "2A", name: "Corse-du-Sud", latitude: 41.9192, longitude: 8.7386 }, // Ajaccio
    Departement { code: "2B", name: "Haute-Corse", latitude: 42.6977, longitude: 9.4508 }, // Bastia
    Departement { code: "21", name: "Côte-d'Or", latitude: 47.3220, longitude: 5.0415 }, // Dijon
    Departement { code: "22", name: "Côtes-d'Armor", latitude: 48.5141, longitude: -2.7603 }, // Saint-Brieuc
    Departement { code: "23", name: "Creuse", latitude: 46.1713, longitude: 1.8716 }, // Guéret
    Departement { code: "24", name: "Dordogne", latitude: 45.1846, longitude: 0.7214 }, // Périgueux
    Departement { code: "25", name: "Doubs", latitude: 47.2378, longitude: 6.0241 }, // Besançon
    Departement { code: "26", name: "Drôme", latitude: 44.9334, longitude: 4.8924 }, // Valence
    Departement { code: "27", name: "Eure", latitude: 49.0270, longitude: 1.1508 }, // Évreux
    Departement { code: "28", name: "Eure-et-Loir", latitude: 48.4439, longitude: 1.4890 }, // Chartres
    Departement { code: "29", name: "Finistère", latitude: 47.9960, longitude: -4.1024 }, // Quimper
    Departement { code: "30", name: "Gard", latitude: 43.8367, longitude: 4.3601 }, // Nîmes
    Departement { code: "31", name: "Haute-Garonne", latitude: 43.6047, longitude: 1.4442 }, // Toulouse
    Departement { code: "32", name: "Gers", latitude: 43.6465, longitude: 0.5855 }, // Auch
    Departement { code: "33", name: "Gironde", latitude: 44.8378, longitude: -0.5792 }, // Bordeaux
    Departement { code: "34", name: "Hérault", latitude: 43.6108, longitude: 3.8767 }, // Montpellier
    Departement { code: "35", name: "Ille-et-Vilaine", latitude: 48.1173, longitude: -1.6778 }, // Rennes
    Departement { code: "36", name: "Indre", latitude: 46.8103, longitude: 1.6913 }, // Châteauroux
    Departement { code: "37", name: "Indre-et-Loire", latitude: 47.3941, longitude: 0.6848 }, // Tours
    Departement { code: "38", name: "Isère", latitude: 45.1885, longitude: 5.7245 }, // Grenoble
    Departement { code: "39", name: "Jura", latitude: 46.6747, longitude: 5.5550 }, // Lons-le-Saunier
    Departement { code: "40", name: "Landes", latitude: 43.8902, longitude: -0.4994 }, // Mont-de-Marsan
    Departement { code: "41", name: "Loir-et-Cher", latitude: 47.5861, longitude: 1.3359 }, // Blois
    Departement { code: "42", name: "Loire", latitude: 45.4397, longitude: 4.3872 }, // Saint-Étienne
    Departement { code: "43", name: "Haute-Loire", latitude: 45.0434, longitude: 3.8858 }, // Le Puy-en-Velay
    Departement { code: "44", name: "Loire-Atlantique", latitude: 47.2184, longitude: -1.5536 }, // Nantes
    Departement { code: "45", name: "Loiret", latitude: 47.9030, longitude: 1.9093 }, // Orléans
    Departement { code: "46", name: "Lot", latitude: 44.4475, longitude: 1.4419 }, // Cahors
    Departement { code: "47", name: "Lot-et-Garonne", latitude: 44.2033, longitude: 0.6163 }, // Agen
    Departement { code: "48", name: "Lozère", latitude: 44.5181, longitude: 3.5006 }, // Mende
    Departement { code: "49", name: "Maine-et-Loire", latitude: 47.4784, longitude: -0.5632 }, // Angers
    Departement { code: "50", name: "Manche", latitude: 49.1160, longitude: -1.0906 }, // Saint-Lô
    Departement { code: "51", name: "Marne", latitude: 48.9566, longitude: 4.3631 }, // Châlons-en-Champagne
    Departement { code: "52", name: "Haute-Marne", latitude: 48.1113, longitude: 5.1392 }, // Chaumont
    Departement { code: "53", name: "Mayenne", latitude: 48.0707, longitude: -0.7734 }, // Laval
    Departement { code: "54", name: "Meurthe-et-Moselle", latitude: 48.6921, longitude: 6.1844 }, // Nancy
    Departement { code: "55", name: "Meuse", latitude: 48.7727, longitude: 5.1600 }, // Bar-le-Duc
    Departement { code: "56", name: "Morbihan", latitude: 47.6582, longitude: -2.7608 }, // Vannes
    Departement { code: "57", name: "Moselle", latitude: 49.1193, longitude: 6.1757 }, // Metz
    Departement { code: "58", name: "Nièvre", latitude: 46.9908, longitude: 3.1590 }, // Nevers
    Departement { code: "59", name: "Nord", latitude: 50.6292, longitude: 3.0573 }, // Lille
    Departement { code: "60", name: "Oise", latitude: 49.4295, longitude: 2.0807 }, // Beauvais
    Departement { code: "61", name: "Orne", latitude: 48.4329, longitude: 0.0913 }, // Alençon
    Departement { code: "62", name: "Pas-de-Calais", latitude: 50.2910, longitude: 2.7775 }, // Arras
    Departement { code: "63", name: "Puy-de-Dôme", latitude: 45.7772, longitude: 3.0870 }, // Clermont-Ferrand
    Departement { code: "64", name: "Pyrénées-Atlantiques", latitude: 43.2951, longitude: -0.3708 }, // Pau
    Departement { code: "65", name: "Hautes-Pyrénées", latitude: 43.2328, longitude: 0.0781 }, // Tarbes
    Departement { code: "66", name: "Pyrénées-Orientales", latitude: 42.6887, longitude: 2.8948 }, // Perpignan
    Departement { code: "67", name: "Bas-Rhin", latitude: 48.5734, longitude: 7.7521 }, // Strasbourg
    Departement { code: "68", name: "Haut-Rhin", latitude: 48.0794, longitude: 7.3585 }, // Colmar
    Departement { code: "69", name: "Rhône", latitude: 45.7640, longitude: 4.8357 }, // Lyon
    Departement { code: "70", name: "Haute-Saône", latitude: 47.6197, longitude: 6.1544 }, // Vesoul
    Departement { code: "71", name: "Saône-et-Loire", latitude: 46.3069, longitude: 4.8287 }, // Mâcon
    Departement { code: "72", name: "Sarthe", latitude: 48.0061, longitude: 0.1996 }, // Le Mans
    Departement { code: "73", name: "Savoie", latitude: 45.5646, longitude: 5.9178 }, // Chambéry
    Departement { code: "74", name: "Haute-Savoie", latitude: 45.8992, longitude: 6.1294 }, // Annecy
    Departement { code: "75", name: "Paris", latitude: 48.8566, longitude: 2.3522 }, // Paris
    Departement { code: "76", name: "Seine-Maritime", latitude: 49.4432, longitude: 1.0999 }, // Rouen
    Departement { code: "77", name: "Seine-et-Marne", latitude: 48.5421, longitude: 2.6554 }, // Melun
    Departement { code: "78", name: "Yvelines", latitude: 48.8049, longitude: 2.1204 }, // Versailles
    Departement { code: "79", name: "Deux-Sèvres", latitude: 46.3237, longitude: -0.4588 }, // Niort
    Departement { code: "80", name: "Somme", latitude: 49.8941, longitude: 2.2958 }, // Amiens
    Departement { code: "81", name: "Tarn", latitude: 43.9289, longitude: 2.1464 }, // Albi
    Departement { code: "82", name: "Tarn-et-Garonne", latitude: 44.0176, longitude: 1.3550 }, // Montauban
    Departement { code: "83", name: "Var", latitude: 43.1242, longitude: 5.9280 }, // Toulon
    Departement { code: "84", name: "Vaucluse", latitude: 43.9493, longitude: 4.8055 }, // Avignon
    Departement { code: "85", name: "Vendée", latitude: 46.6705, longitude: -1.4260 }, // La Roche-sur-Yon
    Departement { code: "86", name: "Vienne", latitude: 46.5802, longitude: 0.3404 }, // Poitiers
    Departement { code: "87", name: "Haute-Vienne", latitude: 45.8336, longitude: 1.2611 }, // Limoges
    Departement { code: "88", name: "Vosges", latitude: 48.1724, longitude: 6.4496 }, // Épinal
    Departement { code: "89", name: "Yonne", latitude: 47.7982, longitude: 3.5673 }, // Auxerre
    Departement { code: "90", name: "Territoire de Belfort", latitude: 47.6380, longitude: 6.8628 }, // Belfort
    Departement { code: "91", name: "Essonne", latitude: 48.6290, longitude: 2.4410 }, // Évry-Courcouronnes
    Departement { code: "92", name: "Hauts-de-Seine", latitude: 48.8924, longitude: 2.2069 }, // Nanterre
    Departement { code: "93", name: "Seine-Saint-Denis", latitude: 48.9086, longitude: 2.4397 }, // Bobigny
    Departement { code: "94", name: "Val-de-Marne", latitude: 48.7904, longitude: 2.4556 }, // Créteil
    Departement { code: "95", name: "Val-d'Oise", latitude: 49.0364, longitude: 2.0761 }, // Cergy
    Departement { code: "971", name: "Guadeloupe", latitude: 15.9985, longitude: -61.7255 }, // Basse-Terre
    Departement { code: "972", name: "Martinique", latitude: 14.6161, longitude: -61.0588 }, // Fort-de-France
    Departement { code: "973", name: "Guyane", latitude: 4.9224, longitude: -52.3135 }, // Cayenne
    Departement { code: "974", name: "La Réunion", latitude: -20.8823, longitude: 55.4504 }, // Saint-Denis
    Departement { code: "976", name: "Mayotte", latitude: -12.7806, longitude: 45.2279 }, // Mamoudzou
];

/// Looks a département up by code; accepts "1" as "01", "2a"/"2A", "974"; None otherwise.
#[must_use]
pub fn find(code: &str) -> Option<&'static Departement> {
    let code = code.trim();
    let single_digit = code.len() == 1 && code.bytes().all(|b| b.is_ascii_digit());
    DEPARTEMENTS.iter().find(|d| {
        if single_digit {
            d.code.len() == 2 && d.code.starts_with('0') && &d.code[1..] == code
        } else {
            d.code.eq_ignore_ascii_case(code)
        }
    })
}

/// Great-circle distance in kilometres (haversine).
#[must_use]
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn has_101_entries_with_unique_codes() {
        assert_eq!(DEPARTEMENTS.len(), 101);
        let codes: HashSet<&str> = DEPARTEMENTS.iter().map(|d| d.code).collect();
        assert_eq!(codes.len(), 101);
        let metropolitan = DEPARTEMENTS.iter().filter(|d| d.code.len() == 2).count();
        assert_eq!(metropolitan, 96);
    }

    #[test]
    fn coordinates_are_plausible() {
        for d in DEPARTEMENTS {
            assert!((-90.0..=90.0).contains(&d.latitude), "{}", d.code);
            assert!((-180.0..=180.0).contains(&d.longitude), "{}", d.code);
            if d.code.len() == 2 {
                // Metropolitan France, Corsica included.
                assert!((41.3..=51.1).contains(&d.latitude), "{}", d.code);
                assert!((-5.2..=9.6).contains(&d.longitude), "{}", d.code);
            }
        }
    }

    #[test]
    fn finds_padded_corsican_and_overseas_codes() {
        assert_eq!(find("1").map(|d| d.name), Some("Ain"));
        assert_eq!(find("01").map(|d| d.name), Some("Ain"));
        assert_eq!(find("2a").map(|d| d.name), Some("Corse-du-Sud"));
        assert_eq!(find("2A").map(|d| d.name), Some("Corse-du-Sud"));
        assert_eq!(find("2b").map(|d| d.name), Some("Haute-Corse"));
        assert_eq!(find("974").map(|d| d.name), Some("La Réunion"));
        assert_eq!(find("976").map(|d| d.name), Some("Mayotte"));
        assert_eq!(find("75").map(|d| d.name), Some("Paris"));
    }

    #[test]
    fn rejects_unknown_codes() {
        for code in ["99", "", "abc", "20", "0", "00", "975", "2C", "1a", "é"] {
            assert_eq!(find(code), None, "{code:?}");
        }
    }

    #[test]
    fn every_code_finds_itself() {
        for d in DEPARTEMENTS {
            assert_eq!(find(d.code), Some(d));
        }
    }

    #[test]
    fn paris_marseille_distance() {
        let (paris, marseille) = (find("75").unwrap(), find("13").unwrap());
        let km = distance_km(
            paris.latitude,
            paris.longitude,
            marseille.latitude,
            marseille.longitude,
        );
        assert!((650.0..=700.0).contains(&km), "{km}");
        let back = distance_km(
            marseille.latitude,
            marseille.longitude,
            paris.latitude,
            paris.longitude,
        );
        assert!((km - back).abs() < 1e-9);
    }

    #[test]
    fn distance_to_self_is_zero() {
        assert!(distance_km(48.8566, 2.3522, 48.8566, 2.3522).abs() < 1e-9);
    }
}
