//! The word ranker: tantivy's BM25 over an English analyzer.

use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{Field, Value};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, Searcher, TantivyDocument};

use super::RetrievalError;

/// Name of the text analyzer; registered on every open (tantivy keeps only the name).
pub(super) const ANALYZER: &str = "hauski_en";

/// Lowercased English words, stop words out, stemmed: "opens" finds "open",
/// and "what is the" matches nothing, so paraphrased questions are left to
/// the embeddings instead of ranking notes by their "the".
pub(super) fn english_analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

/// Ids of the `n` best documents for `text` by BM25.
///
/// Documents with every word of the question are looked for first (as most
/// search engines rank by default): when they alone fill the `n`, they are
/// the answer, and the search walks only the intersection of the words'
/// postings. Otherwise the plain disjunction ranks every document with any of
/// the words. Where the words are common the intersection is what keeps the
/// search fast: at 100 000 chunks whose every word is in a third of them, the
/// disjunction scored 200 000 postings a question (13 ms here).
pub(super) fn top_ids(
    searcher: &Searcher,
    index: &Index,
    text_field: Field,
    id_field: Field,
    text: &str,
    n: usize,
) -> Result<Vec<String>, RetrievalError> {
    let mut parser = QueryParser::for_index(index, vec![text_field]);
    // Spoken questions are not query syntax: errors in it are ignored.
    let (any_word, _errors) = parser.parse_query_lenient(text);
    parser.set_conjunction_by_default();
    let (every_word, _errors) = parser.parse_query_lenient(text);
    let search = |query: &dyn tantivy::query::Query| {
        searcher
            .search(query, &TopDocs::with_limit(n).order_by_score())
            .map_err(|e| RetrievalError::Index(e.to_string()))
    };
    let mut top = search(every_word.as_ref())?;
    if top.len() < n {
        top = search(any_word.as_ref())?;
    }
    let mut ids = Vec::with_capacity(top.len());
    for (_score, address) in top {
        let doc: TantivyDocument = searcher
            .doc(address)
            .map_err(|e| RetrievalError::Index(e.to_string()))?;
        if let Some(id) = doc.get_first(id_field).and_then(|v| v.as_str()) {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}
