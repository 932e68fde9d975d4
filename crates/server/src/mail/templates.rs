//! The text of every account e-mail, in plain text and HTML. Names and messages people
//! typed are escaped in the HTML part.

pub use crate::outbox::Mail;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn build(
    kind: &'static str,
    subject: &str,
    paragraphs: &[String],
    action: &str,
    link: &str,
) -> Mail {
    let text = format!(
        "{}\n\n{action}:\n{link}\n\n-- \nQuiver\n",
        paragraphs.join("\n\n")
    );
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>\n", escape(p)))
        .collect();
    let html = format!(
        "<!doctype html>\n<html><body>\n{body}<p><a href=\"{href}\">{action}</a></p>\n\
         <p>If the button does not work, copy this address into your browser:<br>{href}</p>\n\
         <p>Quiver</p>\n</body></html>\n",
        href = escape(link),
        action = escape(action),
    );
    Mail {
        kind,
        subject: subject.to_owned(),
        text,
        html,
        link: link.to_owned(),
    }
}

pub fn verify(name: &str, link: &str) -> Mail {
    build(
        "verify",
        "Confirm your e-mail address for Quiver",
        &[
            format!("Hello {name},"),
            "Please confirm this is your address. The link works once, for 48 hours.".into(),
            "If you did not sign up for Quiver, ignore this e-mail.".into(),
        ],
        "Confirm my address",
        link,
    )
}

pub fn already_registered(link: &str) -> Mail {
    build(
        "already_registered",
        "You already have a Quiver account",
        &[
            "Someone (hopefully you) tried to sign up for Quiver with this address, which already has an account.".into(),
            "You can log in as usual. If you forgot your password, reset it here.".into(),
        ],
        "Reset my password",
        link,
    )
}

pub fn reset(link: &str) -> Mail {
    build(
        "reset",
        "Reset your Quiver password",
        &[
            "Someone asked to reset the password of your Quiver account. The link works once, for one hour.".into(),
            "Resetting logs out every session. If you did not ask for this, ignore this e-mail: your password stays as it is.".into(),
        ],
        "Choose a new password",
        link,
    )
}

pub fn email_change(name: &str, link: &str) -> Mail {
    build(
        "email_change",
        "Confirm your new e-mail address for Quiver",
        &[
            format!("Hello {name},"),
            "Please confirm this new address for your Quiver account. Until you do, your old address stays in use. The link works once, for 48 hours.".into(),
        ],
        "Confirm my new address",
        link,
    )
}

pub fn invitation(brand: &str, message: &str, link: &str) -> Mail {
    let mut paragraphs = vec![format!(
        "{brand} invites you to promote its products on Quiver."
    )];
    if !message.trim().is_empty() {
        paragraphs.push(format!("Their message: {}", message.trim()));
    }
    paragraphs.push(
        "Accept to create your account (or log in to the one you have). The invitation works once, for 14 days.".into(),
    );
    build(
        "invitation",
        &format!("{brand} invites you to Quiver"),
        &paragraphs,
        "Accept the invitation",
        link,
    )
}

/// The brand's decision on a creator's access request; `reason` is the brand's own words
/// (declines only, may be empty).
pub fn access_decision(name: &str, brand: &str, approved: bool, reason: &str, link: &str) -> Mail {
    let mut paragraphs = vec![format!("Hello {name},")];
    if approved {
        paragraphs.push(format!(
            "{brand} approved your access request: you may now create links to its products."
        ));
    } else {
        paragraphs.push(format!("{brand} declined your access request."));
        if !reason.trim().is_empty() {
            paragraphs.push(format!("Their reason: {}", reason.trim()));
        }
        paragraphs.push("You may ask again later.".into());
    }
    let subject = if approved {
        format!("{brand} approved your access request")
    } else {
        format!("{brand} declined your access request")
    };
    build(
        if approved {
            "access_approved"
        } else {
            "access_declined"
        },
        &subject,
        &paragraphs,
        "See my access requests",
        link,
    )
}

/// A brand's Amazon Ads authorisation stopped working (#18): one e-mail per breakage.
pub fn amazon_reconnect(name: &str, brand: &str, region: &str, reason: &str, link: &str) -> Mail {
    let mut paragraphs = vec![
        format!("Hello {name},"),
        format!(
            "Quiver can no longer use the Amazon Ads account {brand} connected for the {region} region: \
             Amazon no longer accepts its authorisation (access may have been withdrawn)."
        ),
        "Until you reconnect, creators cannot create new links for that region and its reports \
         are not updated. Existing links keep working, and the reports you miss are filled in \
         after you reconnect."
            .into(),
    ];
    if !reason.trim().is_empty() {
        paragraphs.push(format!("What Amazon said: {}", reason.trim()));
    }
    build(
        "amazon_reconnect",
        &format!("Reconnect {brand}'s Amazon Ads account"),
        &paragraphs,
        "Reconnect Amazon Ads",
        link,
    )
}

/// An endpoint was disabled after failing for `days` days.
pub fn webhook_disabled(name: &str, url: &str, days: u64, link: &str) -> Mail {
    build(
        "webhook_disabled",
        "A webhook endpoint was disabled",
        &[
            format!("Hello {name},"),
            format!(
                "Quiver disabled your webhook endpoint {url}: every delivery to it failed for {days} days."
            ),
            "Events are no longer sent to it. Fix the receiver, then enable the endpoint again; \
             the deliveries it missed can be retried from its delivery list."
                .into(),
        ],
        "See your webhooks",
        link,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_people_typed_and_text_carries_the_link() {
        let m = invitation(
            "<b>Acme</b>",
            "\"hi\" & <script>",
            "http://q/app/#/invitation?token=abc",
        );
        assert!(m.html.contains("&lt;b&gt;Acme&lt;/b&gt;"));
        assert!(m.html.contains("&lt;script&gt;"));
        assert!(!m.html.contains("<script>"));
        assert!(m.text.contains("http://q/app/#/invitation?token=abc"));
    }
}
