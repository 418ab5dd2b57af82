//! The RCP report ("fiche RCP"): the delivered opinion as a PDF for the patient's file,
//! typeset in the process by Typst (`report.typ`, embedded) from the data of one opinion
//! version, handed to the template as a JSON file so that no text of the opinion is ever read
//! as markup. Tagged PDF/UA-1, with the document's title and language, the fonts embedded
//! (Libertinus Serif, from `assets/fonts`), French and English hyphenation.

use std::sync::LazyLock;

use serde::Serialize;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// One line of a two-column list ("Initials: AB").
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub label: String,
    pub value: String,
}

/// A participant of the meeting.
#[derive(Debug, Clone, Serialize)]
pub struct Attendee {
    pub name: String,
    pub specialty: String,
    pub site: String,
}

/// A recommendation: its kind's name, its text, and for a referral the site's name and address.
#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    pub kind: String,
    pub text: String,
    pub site: Option<String>,
}

/// What the report shows, in the reader's language (every label included).
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    /// `fr` or `en`.
    pub lang: String,
    /// The document's title (also its PDF title).
    pub title: String,
    pub center: String,
    /// The staff and the meeting's date.
    pub meeting: Vec<Field>,
    pub patient_heading: String,
    pub patient: Vec<Field>,
    /// Headed paragraphs of the request: the question, the clinical summary.
    pub request: Vec<Field>,
    pub opinion_heading: String,
    pub summary: Field,
    pub diagnosis: Field,
    pub recommendations_heading: String,
    pub recommendations: Vec<Advice>,
    pub references_heading: String,
    pub references: Vec<String>,
    pub participants_heading: String,
    /// The table's column headers: name, specialty, site.
    pub participants_columns: [String; 3],
    pub participants: Vec<Attendee>,
    pub quorum: Option<String>,
    pub validation_heading: String,
    pub validation: Vec<Field>,
    /// The line identifying the document: reference, version, SHA-256 of the content.
    pub identification: String,
    /// The page footer: the reference and "page".
    pub footer: String,
}

const TEMPLATE: &str = include_str!("report.typ");

/// The fonts and the standard library, loaded once per process.
struct Assets {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let faces: [&'static [u8]; 4] = [
        include_bytes!("../../assets/fonts/LibertinusSerif-Regular.otf"),
        include_bytes!("../../assets/fonts/LibertinusSerif-Bold.otf"),
        include_bytes!("../../assets/fonts/LibertinusSerif-Italic.otf"),
        include_bytes!("../../assets/fonts/LibertinusSerif-BoldItalic.otf"),
    ];
    let fonts: Vec<Font> = faces
        .into_iter()
        .flat_map(|face| Font::iter(Bytes::new(face)))
        .collect();
    Assets {
        library: LazyHash::new(Library::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

fn file_id(path: &str) -> FileId {
    RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new(path).expect("a valid virtual path"),
    )
    .intern()
}

/// The world one report is typeset in: the template and its data, nothing else readable.
struct ReportWorld {
    main: Source,
    data_id: FileId,
    data: Bytes,
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &ASSETS.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &ASSETS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        ASSETS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

/// Typesets the report: the bytes of a tagged PDF/UA-1 document. CPU-bound (tens of
/// milliseconds): call it off the async threads.
pub fn render(data: &ReportData) -> anyhow::Result<Vec<u8>> {
    let world = ReportWorld {
        main: Source::new(file_id("/report.typ"), TEMPLATE.to_owned()),
        data_id: file_id("/data.json"),
        data: Bytes::new(serde_json::to_vec(data)?),
    };
    let document: typst_layout::PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| anyhow::anyhow!("the report template: {errors:?}"))?;
    let options = typst_pdf::PdfOptions {
        standards: typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::Ua_1])
            .map_err(|e| anyhow::anyhow!("PDF/UA-1: {e:?}"))?,
        creator: typst::foundations::Smart::Custom(Some("Consilium".into())),
        ..Default::default()
    };
    let pdf = typst_pdf::pdf(&document, &options)
        .map_err(|errors| anyhow::anyhow!("the report's PDF: {errors:?}"))?;
    // Typst memoises across compilations; nothing of one report helps the next.
    typst::comemo::evict(0);
    Ok(pdf)
}
