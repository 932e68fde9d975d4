//! Request and response objects that more than one resource uses, with the few functions
//! that build them. Resources import these; these import no resource.

pub mod access_request;
pub mod new_link;
pub mod report_row;
pub mod source;
pub mod statement;
