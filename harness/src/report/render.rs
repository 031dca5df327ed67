//! Renders [`Block`]s as Markdown (`REPORT.md`) and as the body of a self-contained HTML page
//! (`index.html`, every chart inlined).

use super::document::{Block, Table};

/// Markdown for `blocks`; figures become image links to `charts/NAME.svg` and their CSV.
pub fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Heading(level, text, _) => {
                out.push_str(&format!("{} {text}\n\n", "#".repeat(*level as usize)));
            }
            Block::Para(text) => out.push_str(&format!("{text}\n\n")),
            Block::List(items) => {
                for i in items {
                    out.push_str(&format!("- {i}\n"));
                }
                out.push('\n');
            }
            Block::Table(t) => out.push_str(&markdown_table(t)),
            Block::Figures(figs) => {
                for f in figs {
                    out.push_str(&format!(
                        "![{}](charts/{}.svg)\n*{}* — data: [charts/{}.csv](charts/{}.csv)\n\n",
                        f.name, f.name, f.caption, f.name, f.name
                    ));
                }
            }
        }
    }
    out
}

fn markdown_table(t: &Table) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = format!(
        "| {} |\n|{}|\n",
        t.header
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | "),
        t.numeric
            .iter()
            .map(|&n| if n { "---:" } else { "---" })
            .collect::<Vec<_>>()
            .join("|")
    );
    for r in &t.rows {
        out.push_str(&format!(
            "| {} |\n",
            r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    out.push('\n');
    out
}

/// Escapes text for HTML (and XML): `& < > " '`.
pub fn escape(s: &str) -> String {
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

/// A paragraph's markup as HTML: escaped, `code` and **bold** turned into elements.
pub fn inline(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{part}</code>"));
        } else {
            for (j, p) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    out.push_str(&format!("<strong>{p}</strong>"));
                } else {
                    out.push_str(p);
                }
            }
        }
    }
    out
}

/// The HTML body for `blocks`; `svg(name)` returns a chart's SVG document to inline.
pub fn html_body(blocks: &[Block], svg: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Heading(level, text, id) => {
                out.push_str(&format!(
                    "<h{level} id=\"{id}\">{}</h{level}>\n",
                    inline(text)
                ));
            }
            Block::Para(text) => out.push_str(&format!("<p>{}</p>\n", inline(text))),
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    out.push_str(&format!("<li>{}</li>\n", inline(i)));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(t) => out.push_str(&html_table(t)),
            Block::Figures(figs) => {
                out.push_str("<div class=\"figures\">\n");
                for f in figs {
                    let body = svg(&f.name)
                        .map(|s| strip_prolog(&s).to_owned())
                        .unwrap_or_else(|| {
                            format!(
                                "<p class=\"missing\">chart {} is missing</p>",
                                escape(&f.name)
                            )
                        });
                    out.push_str(&format!(
                        "<figure id=\"fig-{id}\">\n{body}\n<figcaption>{} — \
                         <a href=\"charts/{n}.svg\">charts/{n}.svg</a> · \
                         <a href=\"charts/{n}.csv\">charts/{n}.csv</a></figcaption>\n</figure>\n",
                        inline(&f.caption),
                        id = super::document::anchor(&f.name),
                        n = escape(&f.name),
                    ));
                }
                out.push_str("</div>\n");
            }
        }
    }
    out
}

/// An SVG document without its XML declaration, ready to inline.
pub fn strip_prolog(svg: &str) -> &str {
    let s = svg.trim_start();
    match s.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(s, |(_, body)| body.trim_start()),
        None => s,
    }
}

fn html_table(t: &Table) -> String {
    let class = |i: usize| {
        if t.numeric.get(i).copied().unwrap_or(false) {
            " class=\"num\""
        } else {
            ""
        }
    };
    let mut out = String::from("<table>\n<thead><tr>");
    for (i, h) in t.header.iter().enumerate() {
        out.push_str(&format!("<th{}>{}</th>", class(i), inline(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in &t.rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            out.push_str(&format!("<td{}>{}</td>", class(i), inline(c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}
