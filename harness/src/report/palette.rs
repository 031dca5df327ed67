//! One colour per design, the same in every chart (and in the HTML's tables), so a reader
//! learns it once. The hues are the first four of matplotlib's `tab10`, distinguishable in
//! the common forms of colour blindness when paired with the legend's names.

use plotters::style::RGBColor;

/// The colour of `design`; grey for a name this palette does not know.
pub fn colour(design: &str) -> RGBColor {
    match design {
        "mutex" => RGBColor(0x1f, 0x77, 0xb4),
        "actor" => RGBColor(0xff, 0x7f, 0x0e),
        "atomic" => RGBColor(0x2c, 0xa0, 0x2c),
        "atomic-sharded" => RGBColor(0x94, 0x67, 0xbd),
        _ => RGBColor(0x7f, 0x7f, 0x7f),
    }
}

/// The colour of the seeds' own figures in claim-versus-measured charts: near black, no
/// design's hue.
pub const CLAIM: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// `#rrggbb` of a colour, for HTML.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}
