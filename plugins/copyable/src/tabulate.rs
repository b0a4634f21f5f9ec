//! A port of what Python's `tabulate` (0.10) does for `tabulate(rows, headers=columns,
//! tablefmt=NAME)`, the call datasette-copyable makes: the same column types (strings that
//! read as numbers are numbers), number formats (`format(x, "g")`), alignment (numbers on
//! their decimal point, text to the left), multi-line cells and every table format.
//!
//! Widths count characters, as tabulate does without the optional `wcwidth` package; ANSI
//! colour codes and tabulate's separating-line marker (`"\x01"`) are text like any other.

use crate::python::{self, Cell};

/// tabulate's `tabulate_formats`, sorted as it sorts them.
pub const FORMATS: [&str; 37] = [
    "asciidoc",
    "colon_grid",
    "double_grid",
    "double_outline",
    "fancy_grid",
    "fancy_outline",
    "github",
    "grid",
    "heavy_grid",
    "heavy_outline",
    "html",
    "jira",
    "latex",
    "latex_booktabs",
    "latex_longtable",
    "latex_raw",
    "mediawiki",
    "mixed_grid",
    "mixed_outline",
    "moinmoin",
    "orgtbl",
    "outline",
    "pipe",
    "plain",
    "presto",
    "pretty",
    "psql",
    "rounded_grid",
    "rounded_outline",
    "rst",
    "simple",
    "simple_grid",
    "simple_outline",
    "textile",
    "tsv",
    "unsafehtml",
    "youtrack",
];

/// The formats whose cells may span lines.
const MULTILINE: [&str; 25] = [
    "plain",
    "simple",
    "grid",
    "simple_grid",
    "rounded_grid",
    "heavy_grid",
    "mixed_grid",
    "double_grid",
    "fancy_grid",
    "colon_grid",
    "pipe",
    "orgtbl",
    "jira",
    "presto",
    "pretty",
    "psql",
    "rst",
    "github",
    "outline",
    "simple_outline",
    "rounded_outline",
    "heavy_outline",
    "mixed_outline",
    "double_outline",
    "fancy_outline",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Align {
    Left,
    /// Centred (`pretty`).
    Center,
    /// Numbers: right-aligned on their decimal points. (tabulate's `right` is never chosen
    /// without options, and lines and rows mark `decimal` as it marks `right`.)
    Decimal,
    /// No alignment: tabulate's `""` (only where a line has no alignments to go by).
    None,
}

/// tabulate's column types, least generic first.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Type {
    None,
    Bool,
    Int,
    Float,
    Bytes,
    Str,
}

/// A horizontal line of a format.
#[derive(Clone, Copy)]
enum Line {
    /// begin, fill, separator, end.
    Simple(&'static str, &'static str, &'static str, &'static str),
    /// `|:---|---:|`, colons where the column is aligned.
    Pipe,
    /// `+:===+===:+`, as `colon_grid` marks alignment.
    ColonGrid,
    /// `<table>\n<tbody>`.
    HtmlBegin,
    /// `\begin{tabular}{lr}` and the rule below it.
    LatexBegin { booktabs: bool, longtable: bool },
    /// asciidoc's `[cols=…]\n|====`.
    AsciidocBegin,
}

/// A row of a format.
#[derive(Clone, Copy)]
enum Row {
    /// begin, separator, end.
    Simple(&'static str, &'static str, &'static str),
    Mediawiki(&'static str),
    Moin {
        header: bool,
    },
    Html {
        tag: &'static str,
        escape: bool,
    },
    Latex {
        escape: bool,
    },
    Textile,
    Asciidoc {
        header: bool,
    },
}

struct Format {
    above: Option<Line>,
    below_header: Option<Line>,
    between_rows: Option<Line>,
    below: Option<Line>,
    header: Row,
    data: Row,
    padding: usize,
    /// Lines left out when the table has headers (it always has here).
    hide_above: bool,
    hide_below: bool,
}

const fn line(
    begin: &'static str,
    fill: &'static str,
    sep: &'static str,
    end: &'static str,
) -> Option<Line> {
    Some(Line::Simple(begin, fill, sep, end))
}

const PIPES: Row = Row::Simple("|", "|", "|");

/// A grid: the box-drawing characters for the top, the line under the headers, the lines
/// between rows (or none, for an outline), the bottom, and the cells' walls.
fn grid(chars: [[&'static str; 4]; 4], between: bool, wall: &'static str) -> Format {
    let l = |[b, f, s, e]: [&'static str; 4]| line(b, f, s, e);
    Format {
        above: l(chars[0]),
        below_header: l(chars[1]),
        between_rows: if between { l(chars[2]) } else { None },
        below: l(chars[3]),
        header: Row::Simple(wall, wall, wall),
        data: Row::Simple(wall, wall, wall),
        padding: 1,
        hide_above: false,
        hide_below: false,
    }
}

fn format(name: &str) -> Format {
    let plain = |above, below_header, below, padding, hide: bool| Format {
        above,
        below_header,
        between_rows: None,
        below,
        header: Row::Simple("", "  ", ""),
        data: Row::Simple("", "  ", ""),
        padding,
        hide_above: hide,
        hide_below: hide,
    };
    let simple_grid = [
        ["┌", "─", "┬", "┐"],
        ["├", "─", "┼", "┤"],
        ["├", "─", "┼", "┤"],
        ["└", "─", "┴", "┘"],
    ];
    let rounded = [
        ["╭", "─", "┬", "╮"],
        ["├", "─", "┼", "┤"],
        ["├", "─", "┼", "┤"],
        ["╰", "─", "┴", "╯"],
    ];
    let heavy = [
        ["┏", "━", "┳", "┓"],
        ["┣", "━", "╋", "┫"],
        ["┣", "━", "╋", "┫"],
        ["┗", "━", "┻", "┛"],
    ];
    let mixed = [
        ["┍", "━", "┯", "┑"],
        ["┝", "━", "┿", "┥"],
        ["├", "─", "┼", "┤"],
        ["┕", "━", "┷", "┙"],
    ];
    let double = [
        ["╔", "═", "╦", "╗"],
        ["╠", "═", "╬", "╣"],
        ["╠", "═", "╬", "╣"],
        ["╚", "═", "╩", "╝"],
    ];
    let fancy = [
        ["╒", "═", "╤", "╕"],
        ["╞", "═", "╪", "╡"],
        ["├", "─", "┼", "┤"],
        ["╘", "═", "╧", "╛"],
    ];
    let ascii = [
        ["+", "-", "+", "+"],
        ["+", "=", "+", "+"],
        ["+", "-", "+", "+"],
        ["+", "-", "+", "+"],
    ];
    let html = |escape| Format {
        above: Some(Line::HtmlBegin),
        below_header: None,
        between_rows: None,
        below: line("</tbody>\n</table>", "", "", ""),
        header: Row::Html { tag: "th", escape },
        data: Row::Html { tag: "td", escape },
        padding: 0,
        hide_above: true,
        hide_below: false,
    };
    let latex = |above, below_header, below, escape| Format {
        above: Some(above),
        below_header: line(below_header, "", "", ""),
        between_rows: None,
        below: line(below, "", "", ""),
        header: Row::Latex { escape },
        data: Row::Latex { escape },
        padding: 1,
        hide_above: false,
        hide_below: false,
    };
    let tabular = Line::LatexBegin {
        booktabs: false,
        longtable: false,
    };
    let rows_only = |header, data, padding| Format {
        above: None,
        below_header: None,
        between_rows: None,
        below: None,
        header,
        data,
        padding,
        hide_above: false,
        hide_below: false,
    };
    match name {
        "plain" => plain(None, None, None, 0, false),
        "simple" => plain(
            line("", "-", "  ", ""),
            line("", "-", "  ", ""),
            line("", "-", "  ", ""),
            0,
            true,
        ),
        "rst" => plain(
            line("", "=", "  ", ""),
            line("", "=", "  ", ""),
            line("", "=", "  ", ""),
            0,
            false,
        ),
        "grid" => grid(ascii, true, "|"),
        "simple_grid" => grid(simple_grid, true, "│"),
        "rounded_grid" => grid(rounded, true, "│"),
        "heavy_grid" => grid(heavy, true, "┃"),
        "mixed_grid" => grid(mixed, true, "│"),
        "double_grid" => grid(double, true, "║"),
        "fancy_grid" => grid(fancy, true, "│"),
        "colon_grid" => Format {
            below_header: Some(Line::ColonGrid),
            ..grid(ascii, true, "|")
        },
        "outline" => grid(ascii, false, "|"),
        "simple_outline" => grid(simple_grid, false, "│"),
        "rounded_outline" => grid(rounded, false, "│"),
        "heavy_outline" => grid(heavy, false, "┃"),
        "mixed_outline" => grid(mixed, false, "│"),
        "double_outline" => grid(double, false, "║"),
        "fancy_outline" => grid(fancy, false, "│"),
        "github" => Format {
            above: line("|", "-", "|", "|"),
            below_header: line("|", "-", "|", "|"),
            between_rows: None,
            below: None,
            header: PIPES,
            data: PIPES,
            padding: 1,
            hide_above: true,
            hide_below: false,
        },
        "pipe" => Format {
            above: Some(Line::Pipe),
            below_header: Some(Line::Pipe),
            ..format("github")
        },
        "orgtbl" => Format {
            below_header: line("|", "-", "+", "|"),
            ..rows_only(PIPES, PIPES, 1)
        },
        "jira" => rows_only(Row::Simple("||", "||", "||"), PIPES, 1),
        "presto" => Format {
            below_header: line("", "-", "+", ""),
            ..rows_only(Row::Simple("", "|", ""), Row::Simple("", "|", ""), 1)
        },
        "pretty" => Format {
            above: line("+", "-", "+", "+"),
            below_header: line("+", "-", "+", "+"),
            below: line("+", "-", "+", "+"),
            ..rows_only(PIPES, PIPES, 1)
        },
        "psql" => Format {
            above: line("+", "-", "+", "+"),
            below_header: line("|", "-", "+", "|"),
            below: line("+", "-", "+", "+"),
            ..rows_only(PIPES, PIPES, 1)
        },
        "mediawiki" => Format {
            above: line(
                "{| class=\"wikitable\" style=\"text-align: left;\"",
                "",
                "",
                "\n|+ <!-- caption -->\n|-",
            ),
            below_header: line("|-", "", "", ""),
            between_rows: line("|-", "", "", ""),
            below: line("|}", "", "", ""),
            ..rows_only(Row::Mediawiki("!"), Row::Mediawiki("|"), 0)
        },
        "moinmoin" => rows_only(Row::Moin { header: true }, Row::Moin { header: false }, 1),
        "youtrack" => rows_only(
            Row::Simple("|| ", " || ", " || "),
            Row::Simple("| ", " | ", " |"),
            1,
        ),
        "html" => html(true),
        "unsafehtml" => html(false),
        "latex" => latex(tabular, "\\hline", "\\hline\n\\end{tabular}", true),
        "latex_raw" => latex(tabular, "\\hline", "\\hline\n\\end{tabular}", false),
        "latex_booktabs" => latex(
            Line::LatexBegin {
                booktabs: true,
                longtable: false,
            },
            "\\midrule",
            "\\bottomrule\n\\end{tabular}",
            true,
        ),
        "latex_longtable" => latex(
            Line::LatexBegin {
                booktabs: false,
                longtable: true,
            },
            "\\hline\n\\endhead",
            "\\hline\n\\end{longtable}",
            true,
        ),
        "tsv" => rows_only(Row::Simple("", "\t", ""), Row::Simple("", "\t", ""), 0),
        "textile" => rows_only(Row::Simple("|_. ", "|_.", "|"), Row::Textile, 1),
        "asciidoc" => Format {
            above: Some(Line::AsciidocBegin),
            below: line("|====", "", "", ""),
            hide_above: true,
            ..rows_only(
                Row::Asciidoc { header: true },
                Row::Asciidoc { header: false },
                1,
            )
        },
        // tabulate falls back to `simple` for a name it does not know.
        _ => format("simple"),
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// A cell's width: its longest line's, where cells may span lines.
fn cell_width(s: &str, multiline: bool) -> usize {
    if multiline {
        python::split_cr_lf(s).map(width).max().unwrap_or(0)
    } else {
        width(s)
    }
}

fn pad_left(w: usize, s: &str) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

fn pad_right(w: usize, s: &str) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

fn pad_both(w: usize, s: &str) -> String {
    let total = w.saturating_sub(width(s));
    let left = total / 2;
    format!("{}{s}{}", " ".repeat(left), " ".repeat(total - left))
}

fn pad(align: Align, w: usize, s: &str) -> String {
    match align {
        Align::Left => pad_right(w, s),
        Align::Center => pad_both(w, s),
        Align::Decimal => pad_left(w, s),
        Align::None => s.to_string(),
    }
}

/// `re.match` of tabulate's number-with-thousands-separators pattern, whose `$` also
/// matches before a final newline.
fn thousands(s: &str) -> bool {
    fn whole(t: &str) -> bool {
        if t.is_empty() {
            return true;
        }
        if let Some(fraction) = t.strip_prefix('.') {
            return !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit());
        }
        let (int_part, fraction) = match t.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (t, None),
        };
        if fraction.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit())) {
            return false;
        }
        let unsigned = int_part.strip_prefix(['+', '-']).unwrap_or(int_part);
        let mut groups = unsigned.split(',');
        let first = groups.next().unwrap_or("");
        let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
        (1..=3).contains(&first.len()) && digits(first) && groups.all(|g| g.len() == 3 && digits(g))
    }
    whole(s) || s.strip_suffix('\n').is_some_and(whole)
}

/// tabulate's `_isnumber` for text.
fn is_number(s: &str) -> bool {
    python::parse_float(s).is_some_and(|x| {
        x.is_finite() || ["inf", "-inf", "nan"].contains(&s.to_lowercase().as_str())
    })
}

/// tabulate's `_type`.
fn type_of(cell: &Cell, numparse: bool) -> Type {
    match cell {
        Cell::None => Type::None,
        Cell::Str(s) if s.is_empty() => Type::None,
        Cell::Bytes(b) if b.is_empty() => Type::None,
        Cell::Str(s) if s == "True" || s == "False" => Type::Bool,
        Cell::Str(s) if numparse && (python::int_ok(s) || thousands(s) && !s.contains('.')) => {
            Type::Int
        }
        Cell::Str(s) if numparse && (is_number(s) || thousands(s)) => Type::Float,
        Cell::Str(_) => Type::Str,
        Cell::Int(_) if numparse => Type::Int,
        Cell::Float(_) if numparse => Type::Float,
        Cell::Int(_) | Cell::Float(_) => Type::Str,
        Cell::Bytes(b) => match python::ascii(b) {
            Some(text) if numparse && python::int_ok(&text) => Type::Int,
            Some(text) if numparse && python::parse_float(&text).is_some_and(f64::is_finite) => {
                Type::Float
            }
            _ => Type::Bytes,
        },
    }
}

/// tabulate's `_format`: a cell as text for its column's type.
fn format_cell(cell: &Cell, column: Type) -> String {
    match cell {
        Cell::None => return String::new(),
        Cell::Str(s) if s.is_empty() => return String::new(),
        Cell::Bytes(b) if b.is_empty() => return String::new(),
        _ => {}
    }
    match (column, cell) {
        (Type::Float, Cell::Str(s)) => {
            let s = s.replace(',', "");
            python::parse_float(&s).map(python::format_g).unwrap_or(s)
        }
        (Type::Float, Cell::Int(i)) => python::format_g(*i as f64),
        (Type::Float, Cell::Float(x)) => python::format_g(*x),
        (Type::Float, Cell::Bytes(b)) => python::ascii(b)
            .and_then(|t| python::parse_float(&t))
            .map(python::format_g)
            .unwrap_or_else(|| cell.to_str()),
        (Type::Bytes, Cell::Bytes(b)) => python::ascii(b).unwrap_or_else(|| cell.to_str()),
        _ => cell.to_str(),
    }
}

/// tabulate's `_afterpoint`: how many characters follow a number's decimal point (or its
/// exponent's `e`), -1 for whole numbers and text.
fn after_point(s: &str) -> isize {
    if !(is_number(s) || thousands(s)) || python::int_ok(s) {
        return -1;
    }
    let chars: Vec<char> = s.chars().collect();
    let pos = chars
        .iter()
        .rposition(|c| *c == '.')
        .or_else(|| chars.iter().rposition(|c| c.to_lowercase().eq(['e'])));
    match pos {
        Some(p) => (chars.len() - p - 1) as isize,
        None => -1,
    }
}

/// tabulate's `_align_column`: the column's cells padded to one width.
fn align_column(
    strings: Vec<String>,
    align: Align,
    min_width: usize,
    multiline: bool,
) -> Vec<String> {
    let strings: Vec<String> = match align {
        Align::Decimal => {
            let decimals: Vec<isize> = strings.iter().map(|s| after_point(s)).collect();
            let most = decimals.iter().copied().max().unwrap_or(-1);
            strings
                .iter()
                .zip(&decimals)
                .map(|(s, d)| format!("{s}{}", " ".repeat((most - d) as usize)))
                .collect()
        }
        Align::None => strings,
        _ => strings
            .iter()
            .map(|s| python::strip(s).to_string())
            .collect(),
    };
    let widest = strings
        .iter()
        .map(|s| cell_width(s, multiline))
        .max()
        .unwrap_or(0)
        .max(min_width);
    strings
        .iter()
        .map(|s| {
            if multiline {
                python::splitlines(s)
                    .iter()
                    .map(|l| pad(align, widest, l))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                pad(align, widest, s)
            }
        })
        .collect()
}

/// tabulate's `_align_header`.
fn align_header(header: &str, align: Align, w: usize, multiline: bool) -> String {
    if multiline {
        return python::split_cr_lf(header)
            .map(|h| align_header(h, align, w, false))
            .collect::<Vec<_>>()
            .join("\n");
    }
    match align {
        Align::Left => pad_right(w, header),
        Align::Center => pad_both(w, header),
        Align::None => header.to_string(),
        Align::Decimal => pad_left(w, header),
    }
}

fn simple_row(cells: &[String], (begin, sep, end): (&str, &str, &str)) -> String {
    python::rstrip(&format!("{begin}{}{end}", cells.join(sep))).to_string()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("\\&"),
            '%' => out.push_str("\\%"),
            '$' => out.push_str("\\$"),
            '#' => out.push_str("\\#"),
            '_' => out.push_str("\\_"),
            '^' => out.push_str("\\^{}"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            '~' => out.push_str("\\textasciitilde{}"),
            '\\' => out.push_str("\\textbackslash{}"),
            '<' => out.push_str("\\ensuremath{<}"),
            '>' => out.push_str("\\ensuremath{>}"),
            c => out.push(c),
        }
    }
    out
}

fn build_row(cells: &[String], widths: &[usize], aligns: &[Align], row: Row) -> String {
    let pairs = || cells.iter().zip(aligns);
    match row {
        Row::Simple(begin, sep, end) => simple_row(cells, (begin, sep, end)),
        Row::Mediawiki(sep) => {
            let attrs = |a: &Align| match a {
                Align::Decimal => "style=\"text-align: right;\"| ",
                Align::Center => "style=\"text-align: center;\"| ",
                _ => "",
            };
            let values: Vec<String> = pairs().map(|(c, a)| format!(" {}{c} ", attrs(a))).collect();
            python::rstrip(&format!("{sep}{}", values.join(&sep.repeat(2)))).to_string()
        }
        Row::Moin { header } => {
            let attrs = |a: &Align| match a {
                Align::Decimal => "<style=\"text-align: right;\">",
                Align::Center => "<style=\"text-align: center;\">",
                _ => "",
            };
            let quotes = if header { "'''" } else { "" };
            let values: String = pairs()
                .map(|(c, a)| format!("||{} {quotes}{c}{quotes} ", attrs(a)))
                .collect();
            format!("{values}||")
        }
        Row::Html { tag, escape } => {
            let attrs = |a: &Align| match a {
                Align::Decimal => " style=\"text-align: right;\"",
                Align::Center => " style=\"text-align: center;\"",
                _ => "",
            };
            let values: String = pairs()
                .map(|(c, a)| {
                    let c = if escape { html_escape(c) } else { c.clone() };
                    format!("<{tag}{}>{c}</{tag}>", attrs(a))
                })
                .collect();
            let row = format!("<tr>{}</tr>", python::rstrip(&values));
            if tag == "th" {
                format!("<table>\n<thead>\n{row}\n</thead>\n<tbody>")
            } else {
                row
            }
        }
        Row::Latex { escape } => {
            let values: Vec<String> = cells
                .iter()
                .map(|c| if escape { latex_escape(c) } else { c.clone() })
                .collect();
            simple_row(&values, ("", "&", "\\\\"))
        }
        Row::Textile => {
            let attrs = |a: &Align| match a {
                Align::Left => "<.",
                Align::Decimal => ">.",
                Align::Center => "=.",
                Align::None => "",
            };
            let mut cells = cells.to_vec();
            if let Some(first) = cells.first_mut() {
                first.push(' ');
            }
            let values: Vec<String> = cells
                .iter()
                .zip(aligns)
                .map(|(c, a)| format!("{}{c}", attrs(a)))
                .collect();
            format!("|{}|", values.join("|"))
        }
        Row::Asciidoc { header } => {
            let data = format!("|{}", cells.join("|"));
            if header {
                format!("{}\n{data}", asciidoc_begin(widths, aligns, true))
            } else {
                data
            }
        }
    }
}

fn asciidoc_begin(widths: &[usize], aligns: &[Align], header: bool) -> String {
    let specs: Vec<String> = widths
        .iter()
        .zip(aligns)
        .map(|(w, a)| {
            let a = match a {
                Align::Left | Align::None => '<',
                Align::Decimal => '>',
                Align::Center => '^',
            };
            format!("{a}{w}")
        })
        .collect();
    let options = if header { ",options=\"header\"" } else { "" };
    format!("[cols=\"{}\"{options}]\n|====", specs.join(","))
}

fn build_line(widths: &[usize], aligns: &[Align], line: Line) -> String {
    // With no rows there are no alignments: tabulate then marks none.
    let aligns: Vec<Align> = if aligns.is_empty() {
        vec![Align::None; widths.len()]
    } else {
        aligns.to_vec()
    };
    match line {
        Line::Simple(begin, fill, sep, end) => {
            let cells: Vec<String> = widths.iter().map(|w| fill.repeat(*w)).collect();
            simple_row(&cells, (begin, sep, end))
        }
        Line::Pipe => {
            let segments: Vec<String> = widths
                .iter()
                .zip(&aligns)
                .map(|(&w, a)| match a {
                    Align::Decimal => format!("{}:", "-".repeat(w - 1)),
                    Align::Center => format!(":{}:", "-".repeat(w.saturating_sub(2))),
                    Align::Left => format!(":{}", "-".repeat(w - 1)),
                    Align::None => "-".repeat(w),
                })
                .collect();
            format!("|{}|", segments.join("|"))
        }
        Line::ColonGrid => {
            let segments: Vec<String> = widths
                .iter()
                .zip(&aligns)
                .map(|(&w, a)| match a {
                    Align::Center => format!(":{}:", "=".repeat(w.saturating_sub(2))),
                    Align::Left => format!(":{}", "=".repeat(w - 1)),
                    Align::Decimal | Align::None => "=".repeat(w),
                })
                .collect();
            format!("+{}+", segments.join("+"))
        }
        Line::HtmlBegin => "<table>\n<tbody>".into(),
        Line::LatexBegin {
            booktabs,
            longtable,
        } => {
            // Here tabulate goes by the alignments it was given: none when there are no rows.
            let columns: String = aligns
                .iter()
                .map(|a| match a {
                    Align::Decimal => 'r',
                    Align::Center => 'c',
                    Align::Left => 'l',
                    Align::None => '\0',
                })
                .filter(|c| *c != '\0')
                .collect();
            let begin = if longtable {
                "\\begin{longtable}{"
            } else {
                "\\begin{tabular}{"
            };
            let rule = if booktabs { "\\toprule" } else { "\\hline" };
            format!("{begin}{columns}}}\n{rule}")
        }
        Line::AsciidocBegin => asciidoc_begin(widths, &aligns, false),
    }
}

/// `tabulate(rows, headers=columns, tablefmt=format)`.
pub fn tabulate(columns: &[String], rows: &[Vec<Cell>], format_name: &str) -> String {
    if columns.is_empty() {
        return String::new();
    }
    let mut headers: Vec<String> = columns.to_vec();
    let mut rows: Vec<Vec<Cell>> = rows.to_vec();
    if format_name == "rst" {
        // Empty text in the first column would end an RST table.
        let blank = |c: &Cell| match c {
            Cell::Str(s) => python::strip(s).is_empty(),
            Cell::Bytes(b) => b.trim_ascii().is_empty(),
            _ => false,
        };
        for row in rows.iter_mut() {
            if row.first().is_some_and(blank) {
                row[0] = Cell::Str("..".into());
            }
        }
        if python::strip(&headers[0]).is_empty() {
            headers[0] = "..".into();
        }
    }
    let pretty = format_name == "pretty";
    let (min_padding, numparse, num_align, str_align) = if pretty {
        (0, false, Align::Center, Align::Center)
    } else {
        (2, true, Align::Decimal, Align::Left)
    };
    let colon_grid = format_name == "colon_grid";
    let has_break = |s: &str| s.contains(['\r', '\n']);
    let multiline = MULTILINE.contains(&format_name)
        && (headers.iter().any(|h| has_break(h))
            || rows.iter().flatten().any(|c| match c {
                Cell::Str(s) => has_break(s),
                Cell::Bytes(b) => b.contains(&b'\r') || b.contains(&b'\n'),
                _ => false,
            }));
    let fmt = format(format_name);

    let ncols = rows.first().map_or(0, |r| r.len());
    let mut types = vec![Type::Bool; ncols];
    for row in &rows {
        for (t, cell) in types.iter_mut().zip(row) {
            let own = type_of(cell, numparse);
            if own > *t {
                *t = own;
            }
        }
    }
    let aligns: Vec<Align> = types
        .iter()
        .map(|t| match (colon_grid, t) {
            (true, _) => Align::Left,
            (false, Type::Int | Type::Float) => num_align,
            _ => str_align,
        })
        .collect();
    let min_widths: Vec<usize> = headers
        .iter()
        .map(|h| cell_width(h, multiline) + min_padding)
        .collect();
    let columns_text: Vec<Vec<String>> = (0..ncols)
        .map(|i| {
            let strings = rows.iter().map(|r| format_cell(&r[i], types[i])).collect();
            align_column(strings, aligns[i], min_widths[i], multiline)
        })
        .collect();

    let header_aligns: Vec<Align> = if colon_grid {
        vec![Align::Left; headers.len()]
    } else if aligns.is_empty() {
        vec![str_align; headers.len()]
    } else {
        aligns.clone()
    };
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            let widest = columns_text
                .get(i)
                .map(|c| {
                    c.iter()
                        .map(|s| cell_width(s, multiline))
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(0);
            min_widths[i].max(widest)
        })
        .collect();
    let headers: Vec<String> = headers
        .iter()
        .zip(&header_aligns)
        .zip(&widths)
        .map(|((h, a), w)| align_header(h, *a, *w, multiline))
        .collect();
    let table_rows: Vec<Vec<String>> = (0..rows.len())
        .map(|r| columns_text.iter().map(|c| c[r].clone()).collect())
        .collect();
    format_table(
        &fmt,
        &headers,
        &header_aligns,
        &table_rows,
        &widths,
        &aligns,
        multiline,
    )
}

/// tabulate's `_format_table`.
fn format_table(
    fmt: &Format,
    headers: &[String],
    header_aligns: &[Align],
    rows: &[Vec<String>],
    widths: &[usize],
    aligns: &[Align],
    multiline: bool,
) -> String {
    let pad = fmt.padding;
    let padded_widths: Vec<usize> = widths.iter().map(|w| w + 2 * pad).collect();
    let padding = " ".repeat(pad);
    let pad_cells = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .map(|c| format!("{padding}{c}{padding}"))
            .collect()
    };
    let mut lines: Vec<String> = vec![];
    let append_row = |lines: &mut Vec<String>, cells: &[String], row_aligns: &[Align], row: Row| {
        if !multiline {
            lines.push(build_row(
                &pad_cells(cells),
                &padded_widths,
                row_aligns,
                row,
            ));
            return;
        }
        let cell_lines: Vec<Vec<&str>> = cells.iter().map(|c| python::splitlines(c)).collect();
        let count = cell_lines.iter().map(Vec::len).max().unwrap_or(0);
        let blanks: Vec<String> = widths.iter().map(|w| " ".repeat(*w)).collect();
        for i in 0..count {
            let line: Vec<String> = cell_lines
                .iter()
                .zip(&blanks)
                .map(|(l, blank)| l.get(i).map_or_else(|| blank.clone(), |s| s.to_string()))
                .collect();
            lines.push(build_row(&pad_cells(&line), widths, row_aligns, row));
        }
    };

    if let (Some(above), false) = (fmt.above, fmt.hide_above) {
        lines.push(build_line(&padded_widths, aligns, above));
    }
    append_row(&mut lines, headers, header_aligns, fmt.header);
    if let Some(below_header) = fmt.below_header {
        lines.push(build_line(&padded_widths, aligns, below_header));
    }
    match fmt.between_rows {
        Some(between) if !rows.is_empty() => {
            for (i, row) in rows.iter().enumerate() {
                append_row(&mut lines, row, aligns, fmt.data);
                if i + 1 < rows.len() {
                    lines.push(build_line(&padded_widths, aligns, between));
                }
            }
        }
        _ => {
            for row in rows {
                append_row(&mut lines, row, aligns, fmt.data);
            }
        }
    }
    if let (Some(below), false) = (fmt.below, fmt.hide_below) {
        lines.push(build_line(&padded_widths, aligns, below));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dogs() -> (Vec<String>, Vec<Vec<Cell>>) {
        let columns = ["id", "name", "age", "weight", "species"]
            .map(String::from)
            .to_vec();
        let row = |id, name: &str, age, weight| {
            vec![
                Cell::Int(id),
                Cell::Str(name.into()),
                Cell::Int(age),
                Cell::Float(weight),
                Cell::Int(1),
            ]
        };
        (
            columns,
            vec![row(1, "Cleo", 5, 51.2), row(2, "Pancakes", 4, 35.5)],
        )
    }

    /// The original's own test of the github format.
    #[test]
    fn github_as_the_original_tests_it() {
        let (columns, rows) = dogs();
        assert_eq!(
            tabulate(&columns, &rows, "github"),
            "|   id | name     |   age |   weight |   species |\n\
             |------|----------|-------|----------|-----------|\n\
             |    1 | Cleo     |     5 |     51.2 |         1 |\n\
             |    2 | Pancakes |     4 |     35.5 |         1 |"
        );
    }

    /// A few formats written out, as Python's tabulate 0.10 writes them; every format is
    /// checked against tabulate's own output in tests/tabulate.rs.
    #[test]
    fn formats_as_tabulate_writes_them() {
        let (columns, rows) = dogs();
        let cases = [
            (
                "psql",
                "+------+----------+-------+----------+-----------+\n\
                 |   id | name     |   age |   weight |   species |\n\
                 |------+----------+-------+----------+-----------|\n\
                 |    1 | Cleo     |     5 |     51.2 |         1 |\n\
                 |    2 | Pancakes |     4 |     35.5 |         1 |\n\
                 +------+----------+-------+----------+-----------+",
            ),
            (
                "simple",
                "  id  name        age    weight    species\n\
                 ----  --------  -----  --------  ---------\n   \
                 1  Cleo          5      51.2          1\n   \
                 2  Pancakes      4      35.5          1",
            ),
            (
                "pipe",
                "|   id | name     |   age |   weight |   species |\n\
                 |-----:|:---------|------:|---------:|----------:|\n\
                 |    1 | Cleo     |     5 |     51.2 |         1 |\n\
                 |    2 | Pancakes |     4 |     35.5 |         1 |",
            ),
            (
                "rst",
                "====  ========  =====  ========  =========\n  \
                 id  name        age    weight    species\n\
                 ====  ========  =====  ========  =========\n   \
                 1  Cleo          5      51.2          1\n   \
                 2  Pancakes      4      35.5          1\n\
                 ====  ========  =====  ========  =========",
            ),
            (
                "latex",
                "\\begin{tabular}{rlrrr}\n\
                 \\hline\n   \
                 id & name     &   age &   weight &   species \\\\\n\
                 \\hline\n    \
                 1 & Cleo     &     5 &     51.2 &         1 \\\\\n    \
                 2 & Pancakes &     4 &     35.5 &         1 \\\\\n\
                 \\hline\n\
                 \\end{tabular}",
            ),
            (
                "pretty",
                "+----+----------+-----+--------+---------+\n\
                 | id |   name   | age | weight | species |\n\
                 +----+----------+-----+--------+---------+\n\
                 | 1  |   Cleo   |  5  |  51.2  |    1    |\n\
                 | 2  | Pancakes |  4  |  35.5  |    1    |\n\
                 +----+----------+-----+--------+---------+",
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(tabulate(&columns, &rows, name), expected, "{name}");
        }
    }

    #[test]
    fn html_escapes_cells_and_unsafehtml_does_not() {
        let columns = vec!["a".to_string()];
        let rows = vec![vec![Cell::Str("<b>&'\"".into())]];
        assert_eq!(
            tabulate(&columns, &rows, "html"),
            "<table>\n<thead>\n<tr><th>a     </th></tr>\n</thead>\n<tbody>\n\
             <tr><td>&lt;b&gt;&amp;&#x27;&quot;</td></tr>\n</tbody>\n</table>"
        );
        assert_eq!(
            tabulate(&columns, &rows, "unsafehtml"),
            "<table>\n<thead>\n<tr><th>a     </th></tr>\n</thead>\n<tbody>\n\
             <tr><td><b>&'\"</td></tr>\n</tbody>\n</table>"
        );
    }

    #[test]
    fn text_that_reads_as_a_number_is_a_number() {
        let columns = vec!["n".to_string()];
        let rows: Vec<Vec<Cell>> = ["007", "1,000", "3.14", "1e3"]
            .iter()
            .map(|s| vec![Cell::Str(s.to_string())])
            .collect();
        assert_eq!(
            tabulate(&columns, &rows, "plain"),
            "      n\n   7\n1000\n   3.14\n1000"
        );
    }
}
