//! The two chart forms of the report, drawn with plotters' SVG backend: lines over a numeric
//! or categorical x axis, and horizontal grouped bars with optional confidence whiskers.
//!
//! Axes are transformed here, not by plotters: a log axis plots `log10(v)` on a linear
//! coordinate with tick marks placed and labelled by [`Axis`], so both scales share one code
//! path and every tick label carries its unit. Text is emitted as SVG `<text>` elements whose
//! size plotters estimates without a font file (its "naive" font backend): generating a chart
//! needs no system fonts, and the viewer's own sans-serif renders the labels. The legend is
//! drawn in its own column to the right of the plot, so it never covers data.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::{count, rate, sig3, time_ns};

/// Width of every chart's plot area, pixels (the legend column is added to it).
pub const WIDTH: u32 = 640;
/// Height of every chart, pixels.
pub const HEIGHT: u32 = 420;
/// Font sizes, as given to plotters (its SVG backend writes about 0.8 of them as pixels).
const TITLE_SIZE: u32 = 20;
const AXIS_TITLE_SIZE: u32 = 16;
const TICK_SIZE: u32 = 15;
const LEGEND_SIZE: u32 = 16;
const VALUE_SIZE: u32 = 14;

/// Width of the legend column for `entries`, pixels: room for the longest name, estimated at
/// 8 px a character (no font file is read to measure it).
fn legend_width(entries: &[(String, RGBColor)]) -> u32 {
    let longest = entries
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(6)
        .max(6) as u32;
    48 + 8 * longest
}
const FONT: &str = "sans-serif";

/// What an axis measures, for its tick labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds (labelled `51.9 ns`, `1.63 µs`).
    Nanos,
    /// Operations per second (`4.21 M/s`).
    PerSec,
    /// A count per operation.
    Count,
    /// A speed ratio (`5.6x`).
    Ratio,
}

impl Unit {
    fn label(self, v: f64) -> String {
        match self {
            Unit::Nanos => time_ns(v),
            Unit::PerSec => rate(v),
            Unit::Count => count(v),
            Unit::Ratio => format!("{}x", sig3(v)),
        }
    }
}

/// A linear or a base-10 logarithmic axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Linear from zero.
    Linear,
    /// Logarithmic (every value must be positive).
    Log,
}

impl Scale {
    /// Log when every value is positive and they span at least `span` (max/min), else linear.
    pub fn auto(values: impl IntoIterator<Item = f64>, span: f64) -> Scale {
        let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
        for v in values {
            if v <= 0.0 || !v.is_finite() {
                return Scale::Linear;
            }
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if hi > 0.0 && hi / lo >= span {
            Scale::Log
        } else {
            Scale::Linear
        }
    }
}

/// An axis in plot space: its range, its ticks with their labels, and how data map onto it.
#[derive(Clone, Debug)]
pub struct Axis {
    /// The axis title, with its unit.
    pub title: String,
    /// Plot-space range.
    lo: f64,
    hi: f64,
    /// Ticks, plot space, with labels.
    ticks: Vec<(f64, String)>,
    scale: Scale,
    /// What the values measure, for value labels (value axes only).
    unit: Option<Unit>,
}

impl Axis {
    /// A value axis over `values` (data space).
    pub fn values(title: &str, unit: Unit, scale: Scale, values: &[f64]) -> Axis {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        match scale {
            Scale::Log => {
                let positive: Vec<f64> = finite.filter(|v| *v > 0.0).collect();
                let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
                let max = positive.iter().copied().fold(0.0, f64::max);
                let (min, max) = if positive.is_empty() {
                    (1.0, 10.0)
                } else {
                    (min, max)
                };
                let lo = min.log10().floor();
                let hi = max.log10().ceil().max(lo + 1.0);
                let decades = (hi - lo) as i32;
                let mut ticks = Vec::new();
                for k in lo as i32..=hi as i32 {
                    let base = 10f64.powi(k);
                    ticks.push(base);
                    if decades <= 3 && k < hi as i32 {
                        ticks.push(2.0 * base);
                        ticks.push(5.0 * base);
                    }
                }
                Axis {
                    title: title.into(),
                    lo,
                    hi,
                    ticks: ticks
                        .into_iter()
                        .map(|t| (t.log10(), unit.label(t)))
                        .collect(),
                    scale,
                    unit: Some(unit),
                }
            }
            Scale::Linear => {
                let max = finite.fold(0.0, f64::max);
                let max = if max > 0.0 { max * 1.08 } else { 1.0 };
                let raw = max / 6.0;
                let mag = 10f64.powf(raw.log10().floor());
                let step = [1.0, 2.0, 2.5, 5.0, 10.0]
                    .iter()
                    .map(|m| m * mag)
                    .find(|s| max / s <= 7.0)
                    .unwrap_or(10.0 * mag);
                let n = (max / step).ceil() as usize;
                Axis {
                    title: title.into(),
                    lo: 0.0,
                    hi: step * n as f64,
                    ticks: (0..=n)
                        .map(|i| i as f64 * step)
                        .map(|t| (t, unit.label(t)))
                        .collect(),
                    scale,
                    unit: Some(unit),
                }
            }
        }
    }

    /// A client-count axis with a tick at each count; logarithmic (base 2 spacing) when the
    /// counts span 4x or more.
    pub fn clients(title: &str, counts: &[usize]) -> Axis {
        let mut c: Vec<usize> = counts.to_vec();
        c.sort_unstable();
        c.dedup();
        let (min, max) = (
            *c.first().unwrap_or(&1) as f64,
            *c.last().unwrap_or(&1) as f64,
        );
        let scale = if max / min >= 4.0 {
            Scale::Log
        } else {
            Scale::Linear
        };
        let at = |v: f64| if scale == Scale::Log { v.log10() } else { v };
        let pad = if c.len() > 1 {
            (at(max) - at(min)) * 0.06
        } else {
            0.5
        };
        Axis {
            title: title.into(),
            lo: at(min) - pad,
            hi: at(max) + pad,
            ticks: c.iter().map(|&n| (at(n as f64), n.to_string())).collect(),
            scale,
            unit: None,
        }
    }

    /// A categorical axis: `names[i]` at position `i`.
    pub fn categories(title: &str, names: &[String]) -> Axis {
        Axis {
            title: title.into(),
            lo: -0.5,
            hi: names.len() as f64 - 0.5,
            ticks: names
                .iter()
                .enumerate()
                .map(|(i, n)| (i as f64, n.clone()))
                .collect(),
            scale: Scale::Linear,
            unit: None,
        }
    }

    /// `v` in plot space; `None` where the axis cannot show it (zero on a log axis).
    pub fn at(&self, v: f64) -> Option<f64> {
        match self.scale {
            Scale::Log if v > 0.0 => Some(v.log10()),
            Scale::Log => None,
            Scale::Linear => Some(v),
        }
    }

    /// Whether this axis is logarithmic.
    pub fn is_log(&self) -> bool {
        self.scale == Scale::Log
    }

    /// A value (data space) as this axis's unit writes it; plain for other axes.
    pub fn format(&self, v: f64) -> String {
        match self.unit {
            Some(u) => u.label(v),
            None => sig3(v),
        }
    }

    fn label_of(&self, v: f64) -> String {
        self.ticks
            .iter()
            .min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()))
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }

    fn points(&self) -> Vec<f64> {
        self.ticks.iter().map(|t| t.0).collect()
    }
}

/// A linear f64 coordinate whose tick marks are exactly the given points (plotters' own
/// `WithKeyPoints` does not take a custom label formatter).
#[derive(Clone, Debug)]
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn of(axis: &Axis) -> Ticked {
        Ticked {
            lo: axis.lo,
            hi: axis.hi,
            ticks: axis.points(),
        }
    }

    fn with(lo: f64, hi: f64, ticks: Vec<f64>) -> Ticked {
        Ticked { lo, hi, ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return (limit.0 + limit.1) / 2;
        }
        let t = (v - self.lo) / (self.hi - self.lo);
        limit.0 + ((limit.1 - limit.0) as f64 * t).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Light (minor) grid lines would get no labels: ticks only, every one a bold point.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// One line of a line chart: a design's points, in data space.
#[derive(Clone, Debug)]
pub struct Series {
    /// The legend's name.
    pub name: String,
    /// Its colour.
    pub colour: RGBColor,
    /// `(x, y)` points, data space, in x order.
    pub points: Vec<(f64, f64)>,
}

/// One bar of a horizontal bar chart.
#[derive(Clone, Debug)]
pub struct Bar {
    /// Its category (row), from the top.
    pub category: usize,
    /// Its slot within the row, from the top.
    pub slot: usize,
    /// The value, data space.
    pub value: f64,
    /// A confidence interval to draw as a whisker.
    pub interval: Option<(f64, f64)>,
    /// Its colour.
    pub colour: RGBColor,
}

/// plotters could not draw a chart (its backend's message; the SVG backend draws into memory,
/// so this is a bug in the chart's data or layout, not in the machine).
#[derive(Debug, thiserror::Error)]
#[error("plotters: {0}")]
pub struct DrawError(String);

type Err = DrawError;

fn err<E: std::fmt::Display>(e: E) -> Err {
    DrawError(e.to_string())
}

/// Draws the legend column: a swatch and a name per entry.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(String, RGBColor)],
) -> Result<(), Err>
where
    DB::ErrorType: 'static,
{
    area.draw(&Text::new(
        "Legend",
        (8, 40),
        (FONT, LEGEND_SIZE + 1).into_font().style(FontStyle::Bold),
    ))
    .map_err(err)?;
    for (i, (name, colour)) in entries.iter().enumerate() {
        let y = 66 + 24 * i as i32;
        area.draw(&Rectangle::new([(8, y), (26, y + 14)], colour.filled()))
            .map_err(err)?;
        area.draw(&Text::new(name.clone(), (32, y), (FONT, LEGEND_SIZE)))
            .map_err(err)?;
    }
    Ok(())
}

/// A line chart: one line with point markers per series.
pub fn line_chart(title: &str, x: &Axis, y: &Axis, series: &[Series]) -> Result<String, Err> {
    let mut svg = String::new();
    {
        let entries: Vec<_> = series.iter().map(|s| (s.name.clone(), s.colour)).collect();
        let width = WIDTH + legend_width(&entries);
        let root = SVGBackend::with_string(&mut svg, (width, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (main, side) = root.split_horizontally(WIDTH);
        let mut chart = ChartBuilder::on(&main)
            .caption(title, (FONT, TITLE_SIZE))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(92)
            .build_cartesian_2d(Ticked::of(x), Ticked::of(y))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x.title.as_str())
            .y_desc(y.title.as_str())
            .x_label_formatter(&|v| x.label_of(*v))
            .y_label_formatter(&|v| y.label_of(*v))
            .axis_desc_style((FONT, AXIS_TITLE_SIZE))
            .label_style((FONT, TICK_SIZE))
            .draw()
            .map_err(err)?;
        for s in series {
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter_map(|&(px, py)| Some((x.at(px)?, y.at(py)?)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), s.colour.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, s.colour.filled())))
                .map_err(err)?;
        }
        legend(&side, &entries)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Horizontal grouped bars: `categories` as rows from the top, `slots` bars per row, values
/// on `x`; a whisker over each bar's interval. Zero on a log axis draws no bar and says `0`.
pub fn bar_chart(
    title: &str,
    categories: &[String],
    slots: usize,
    x: &Axis,
    bars: &[Bar],
    entries: &[(String, RGBColor)],
) -> Result<String, Err> {
    let rows = categories.len().max(1);
    let height = HEIGHT.max(110 + (rows * (16 * slots.max(1) + 12)) as u32);
    let label_width = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(4) as u32
        * 8
        + 20;
    let mut svg = String::new();
    {
        let width = WIDTH + 120 + legend_width(entries);
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (main, side) = root.split_horizontally(WIDTH + 120);
        // Row i spans [n-1-i - 0.5, n-1-i + 0.5]: the first category on top.
        let n = rows as f64;
        let row_ticks: Vec<f64> = (0..rows).map(|i| n - 1.0 - i as f64).collect();
        let label_at = |v: f64| {
            let i = (n - 1.0 - v).round();
            categories.get(i as usize).cloned().unwrap_or_default()
        };
        let mut chart = ChartBuilder::on(&main)
            .caption(title, (FONT, TITLE_SIZE))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(label_width.min(360))
            .build_cartesian_2d(Ticked::of(x), Ticked::with(-0.5, n - 0.5, row_ticks))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x.title.as_str())
            .x_label_formatter(&|v| x.label_of(*v))
            .y_label_formatter(&|v| label_at(*v))
            .axis_desc_style((FONT, AXIS_TITLE_SIZE))
            .label_style((FONT, TICK_SIZE))
            .disable_y_mesh()
            .draw()
            .map_err(err)?;
        let band = 0.8 / slots.max(1) as f64;
        for b in bars {
            let centre = n - 1.0 - b.category as f64 + 0.4 - band * (b.slot as f64 + 0.5);
            let (top, bottom) = (centre + band * 0.42, centre - band * 0.42);
            match x.at(b.value) {
                Some(v) => {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x.lo, bottom), (v, top)],
                            b.colour.filled(),
                        )))
                        .map_err(err)?;
                    // The value, written past the bar (and past its whisker).
                    let end = b
                        .interval
                        .and_then(|(_, hi)| x.at(hi))
                        .map_or(v, |h| h.max(v));
                    let style = (FONT, VALUE_SIZE)
                        .into_font()
                        .color(&RGBColor(0x33, 0x33, 0x33))
                        .pos(Pos::new(HPos::Left, VPos::Center));
                    chart
                        .draw_series(std::iter::once(
                            EmptyElement::at((end, centre))
                                + Text::new(x.format(b.value), (5, 0), style),
                        ))
                        .map_err(err)?;
                }
                None => {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            "0",
                            (x.lo, top),
                            (FONT, TICK_SIZE).into_font().color(&b.colour),
                        )))
                        .map_err(err)?;
                }
            }
            if let Some((lo, hi)) = b.interval
                && let (Some(l), Some(h)) = (x.at(lo), x.at(hi))
            {
                let ink = RGBColor(0x22, 0x22, 0x22).stroke_width(1);
                let whisker = vec![
                    vec![(l, bottom), (l, top)],
                    vec![(l, centre), (h, centre)],
                    vec![(h, bottom), (h, top)],
                ];
                for seg in whisker {
                    chart.draw_series(LineSeries::new(seg, ink)).map_err(err)?;
                }
            }
        }
        legend(&side, entries)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}
