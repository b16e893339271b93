//! Entry points for the fuzz targets (`crates/fuzz`): the client's readers
//! of untrusted input (a server's `$batch` answers, the lab's files),
//! callable on bytes. Not an API.

/// Reads a page of a `$batch` answer as the client does, then reads every
/// answer's headers and body: the number of answers, or why not.
pub fn read_answer(bytes: Vec<u8>) -> Result<usize, String> {
    crate::executor::read_page_for_fuzz(bytes)
}
