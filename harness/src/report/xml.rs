//! A small XML well-formedness check for the report's own output (SVG charts, the XHTML-clean
//! index page): one root element, tags nested and closed, attributes quoted and unique, `&`
//! only in the five predefined or numeric entities, no `<` in text or attribute values.
//! Comments, processing instructions, a DOCTYPE and CDATA sections are skipped. It checks
//! well-formedness, not validity against a schema; it exists so the report need not depend
//! on an XML library.

/// The first way a document is not well-formed, with its line when it has one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{problem}", line.map(|n| format!("line {n}: ")).unwrap_or_default())]
pub struct XmlError {
    /// The 1-based line, or `None` for a problem of the whole document (an unclosed root).
    pub line: Option<usize>,
    /// What is wrong.
    pub problem: XmlProblem,
}

/// The ways a document can fail the check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum XmlProblem {
    /// Non-blank text before or after the root element.
    #[error("text outside the root element")]
    TextOutsideRoot,
    /// A construct (comment, CDATA, tag, ...) that runs to the end of the document.
    #[error("{0} never closed")]
    Unclosed(&'static str),
    /// An end tag that does not match the innermost open element.
    #[error("</{close}> closes <{open}>")]
    Mismatched {
        /// The end tag's name.
        close: String,
        /// The element it should have closed.
        open: String,
    },
    /// An end tag with nothing open.
    #[error("</{0}> with no open element")]
    CloseWithoutOpen(String),
    /// A second top-level element.
    #[error("a second root element <{0}>")]
    SecondRoot(String),
    /// An element still open at the end of the document.
    #[error("<{0}> is never closed")]
    ElementNeverClosed(String),
    /// A document without any element.
    #[error("no root element")]
    NoRoot,
    /// An element name that does not start with a letter or `_`.
    #[error("bad element name {0:?}")]
    BadElementName(String),
    /// A problem with one attribute of an element.
    #[error("<{element}>: {problem}")]
    Attribute {
        /// The element.
        element: String,
        /// What is wrong with its attribute.
        problem: AttributeProblem,
    },
    /// An `&` that does not end in `;`.
    #[error("'&' without ';' (write &amp;)")]
    BareAmpersand,
    /// An `&name;` that is neither predefined nor numeric.
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
}

/// What can be wrong with an attribute.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttributeProblem {
    /// A name with no `=value`.
    #[error("attribute without a value")]
    NoValue,
    /// An empty name or one with spaces or angle brackets.
    #[error("bad attribute name {0:?}")]
    BadName(String),
    /// The same attribute twice on one element.
    #[error("attribute {0} given twice")]
    Duplicate(String),
    /// A value not in quotes.
    #[error("value of {0} is not quoted")]
    Unquoted(String),
    /// A value whose closing quote is missing.
    #[error("value of {0} never closed")]
    UnclosedValue(String),
    /// A `<` inside a value.
    #[error("'<' in the value of {0}")]
    LessThan(String),
    /// A bad entity inside a value.
    #[error("{attr}: {entity}")]
    Entity {
        /// The attribute.
        attr: String,
        /// The entity problem (`BareAmpersand` or `UnknownEntity`).
        entity: Box<XmlProblem>,
    },
}

/// `Ok` when `doc` is well-formed; else the first problem with its line.
pub fn check(doc: &str) -> Result<(), XmlError> {
    let b = doc.as_bytes();
    let mut i = 0;
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let line = |at: usize| doc[..at.min(doc.len())].matches('\n').count() + 1;
    let fail = |at: usize, problem: XmlProblem| {
        Err(XmlError {
            line: Some(line(at)),
            problem,
        })
    };
    while i < b.len() {
        if b[i] != b'<' {
            let end = doc[i..].find('<').map_or(b.len(), |n| i + n);
            let text = &doc[i..end];
            if stack.is_empty() && !text.trim().is_empty() {
                return fail(i, XmlProblem::TextOutsideRoot);
            }
            if let Err(e) = entities(text) {
                return fail(i, e);
            }
            i = end;
            continue;
        }
        let rest = &doc[i..];
        let skip = |open: &str, close: &str| -> Option<usize> {
            rest.strip_prefix(open)?;
            rest.find(close).map(|n| n + close.len())
        };
        if rest.starts_with("<!--") {
            match skip("<!--", "-->") {
                Some(n) => i += n,
                None => return fail(i, XmlProblem::Unclosed("comment")),
            }
        } else if rest.starts_with("<![CDATA[") {
            match skip("<![CDATA[", "]]>") {
                Some(n) => i += n,
                None => return fail(i, XmlProblem::Unclosed("CDATA")),
            }
        } else if rest.starts_with("<?") {
            match skip("<?", "?>") {
                Some(n) => i += n,
                None => return fail(i, XmlProblem::Unclosed("processing instruction")),
            }
        } else if rest.starts_with("<!") {
            match rest.find('>') {
                Some(n) => i += n + 1,
                None => return fail(i, XmlProblem::Unclosed("declaration")),
            }
        } else if let Some(after) = rest.strip_prefix("</") {
            let Some(n) = after.find('>') else {
                return fail(i, XmlProblem::Unclosed("end tag"));
            };
            let name = after[..n].trim();
            match stack.pop() {
                Some(open) if open == name => {}
                Some(open) => {
                    return fail(
                        i,
                        XmlProblem::Mismatched {
                            close: name.into(),
                            open: open.into(),
                        },
                    );
                }
                None => return fail(i, XmlProblem::CloseWithoutOpen(name.into())),
            }
            i += 2 + n + 1;
        } else {
            let (name, len, empty) = match start_tag(rest) {
                Ok(t) => t,
                Err(e) => return fail(i, e),
            };
            if stack.is_empty() {
                roots += 1;
                if roots > 1 {
                    return fail(i, XmlProblem::SecondRoot(name.into()));
                }
            }
            if !empty {
                stack.push(name);
            }
            i += len;
        }
    }
    match (stack.last(), roots) {
        (Some(open), _) => Err(XmlError {
            line: None,
            problem: XmlProblem::ElementNeverClosed((*open).into()),
        }),
        (None, 0) => Err(XmlError {
            line: None,
            problem: XmlProblem::NoRoot,
        }),
        _ => Ok(()),
    }
}

/// Parses a start tag at the start of `s`: its name, its length, whether it is empty (`/>`).
fn start_tag(s: &str) -> Result<(&str, usize, bool), XmlProblem> {
    let body = &s[1..];
    let name_len = body
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .ok_or(XmlProblem::Unclosed("start tag"))?;
    let name = &body[..name_len];
    if name.is_empty()
        || !name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
    {
        return Err(XmlProblem::BadElementName(name.into()));
    }
    let mut rest = &body[name_len..];
    let mut seen: Vec<&str> = Vec::new();
    let bad = |problem: AttributeProblem| XmlProblem::Attribute {
        element: name.into(),
        problem,
    };
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("/>") {
            return Ok((name, s.len() - r.len(), true));
        }
        if let Some(r) = rest.strip_prefix('>') {
            return Ok((name, s.len() - r.len(), false));
        }
        let eq = rest
            .find('=')
            .ok_or_else(|| bad(AttributeProblem::NoValue))?;
        let attr = rest[..eq].trim();
        if attr.is_empty() || attr.contains(|c: char| c.is_whitespace() || c == '<' || c == '>') {
            return Err(bad(AttributeProblem::BadName(attr.into())));
        }
        if seen.contains(&attr) {
            return Err(bad(AttributeProblem::Duplicate(attr.into())));
        }
        seen.push(attr);
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
        let quote = quote.ok_or_else(|| bad(AttributeProblem::Unquoted(attr.into())))?;
        let end = after[1..]
            .find(quote)
            .ok_or_else(|| bad(AttributeProblem::UnclosedValue(attr.into())))?;
        let value = &after[1..1 + end];
        if value.contains('<') {
            return Err(bad(AttributeProblem::LessThan(attr.into())));
        }
        entities(value).map_err(|e| {
            bad(AttributeProblem::Entity {
                attr: attr.into(),
                entity: Box::new(e),
            })
        })?;
        rest = &after[end + 2..];
    }
}

/// Checks that every `&` in `text` starts a known entity.
fn entities(text: &str) -> Result<(), XmlProblem> {
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        let after = &rest[at + 1..];
        let end = after.find(';').ok_or(XmlProblem::BareAmpersand)?;
        let name = &after[..end];
        let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
            || name
                .strip_prefix("#x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || name
                .strip_prefix('#')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(XmlProblem::UnknownEntity(name.into()));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_well_formed_documents() {
        check("<?xml version=\"1.0\"?>\n<svg a=\"1\" b='2'><g><text>x &amp; y &#160;</text></g><rect/></svg>").unwrap();
        check("<!DOCTYPE html>\n<html><!-- c --><body><p>a &gt; b</p></body></html>").unwrap();
    }

    #[test]
    fn rejects_what_a_parser_would() {
        for bad in [
            "<svg><g></svg>",
            "<svg></svg><svg></svg>",
            "<svg a=1></svg>",
            "<svg a=\"1\" a=\"2\"></svg>",
            "<svg>a & b</svg>",
            "<svg>&nbsp;</svg>",
            "<svg>",
            "text",
            "<svg a=\"<\"></svg>",
        ] {
            assert!(check(bad).is_err(), "accepted {bad:?}");
        }
        let e = check("<svg>\n<g></svg>").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.to_string(), "line 2: </svg> closes <g>");
        assert_eq!(
            check("<svg>").unwrap_err().to_string(),
            "<svg> is never closed"
        );
    }
}
