//! The statement e-mails, sent through the account outbox.

use crate::objects::format::month_label;
use crate::outbox::Mail;

fn mail(kind: &'static str, subject: String, lines: &[String], link: &str) -> Mail {
    let text = format!("{}\n\n{link}\n\n-- \nQuiver\n", lines.join("\n\n"));
    let body: String = lines
        .iter()
        .map(|l| format!("<p>{}</p>\n", escape(l)))
        .collect();
    let html = format!(
        "<!doctype html>\n<html><body>\n{body}<p><a href=\"{href}\">Open Quiver</a></p>\n<p>Quiver</p>\n</body></html>\n",
        href = escape(link)
    );
    Mail {
        kind,
        subject,
        text,
        html,
        link: link.to_owned(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// To a brand: a month's statements are final and can be approved.
pub fn month_final(month: i32, brands: &[String], link: &str) -> Mail {
    let m = month_label(month);
    mail(
        "statements_final",
        format!("Your {m} creator statements are final"),
        &[
            format!(
                "Amazon no longer restates {m}, so the creator statements of {} are final.",
                brands.join(", ")
            ),
            "Review them, add any bonus or correction, and approve them for payment.".into(),
        ],
        link,
    )
}

/// To a creator: a brand approved a statement.
pub fn approved(brand: &str, month: i32, amount: &str, link: &str) -> Mail {
    let m = month_label(month);
    mail(
        "statement_approved",
        format!("{brand} approved your {m} statement"),
        &[format!(
            "{brand} approved your statement for {m}: {amount} will be paid to you."
        )],
        link,
    )
}

/// To a creator: a brand recorded the payment of a statement.
pub fn paid(brand: &str, month: i32, amount: &str, method: &str, link: &str) -> Mail {
    let m = month_label(month);
    mail(
        "statement_paid",
        format!("{brand} paid your {m} statement"),
        &[format!(
            "{brand} recorded the payment of your statement for {m}: {amount} by {method}."
        )],
        link,
    )
}
