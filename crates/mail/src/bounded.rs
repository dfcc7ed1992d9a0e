//! A Liquid parser whose templates cannot exhaust the sender's memory or
//! time. The `liquid` crate bounds nothing: a template of a few lines can
//! double a string forty times with `assign`/`append` or `capture`, or build
//! gigabytes in one `replace`, and the mail worker that renders it dies. Every
//! standard filter is wrapped so that no value it takes or makes exceeds
//! [`MAX_VALUE_BYTES`] (`replace` and `join` are judged before they run, as
//! they multiply), `capture` keeps at most that much, and a render that
//! produces more than [`MAX_WORK_BYTES`] in all or runs longer than
//! [`MAX_RENDER_TIME`] stops with an error. A filter that panics (liquid's
//! arithmetic does on overflow) is an error too.

use liquid_core::model::{Value, ValueView};
use liquid_core::parser::FilterArguments;
use liquid_core::runtime::Runtime;
use liquid_core::{
    BlockReflection, Error, Expression, Filter, FilterReflection, Language, ParseBlock,
    ParseFilter, ParseTag, Renderable, Result, TagBlock, TagReflection, TagTokenIter, Template,
};
use liquid_lib::stdlib;
use std::fmt;
use std::io::Write;
use std::time::{Duration, Instant};

/// The largest value a filter or `capture` may take or make.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// What all the filters of one render may produce together.
pub const MAX_WORK_BYTES: usize = 64 * 1024 * 1024;
/// How long one render may run.
pub const MAX_RENDER_TIME: Duration = Duration::from_secs(2);
/// What an array or object entry counts for beyond its content.
const ENTRY_BYTES: usize = 64;

/// The standard tags, blocks and filters, bounded.
pub fn parser() -> Result<liquid::Parser> {
    let mut builder = liquid::ParserBuilder::new();
    macro_rules! tags { ($($t:ident),*) => { $( builder = builder.tag(Checked(stdlib::$t)); )* } }
    macro_rules! blocks { ($($b:ident),*) => { $( builder = builder.block(Checked(stdlib::$b)); )* } }
    macro_rules! filters { ($($f:ident),*) => { $( builder = builder.filter(Bounded(stdlib::$f)); )* } }
    tags!(
        AssignTag,
        BreakTag,
        ContinueTag,
        CycleTag,
        IncludeTag,
        IncrementTag,
        DecrementTag,
        RenderTag
    );
    blocks!(
        RawBlock,
        IfBlock,
        UnlessBlock,
        IfChangedBlock,
        ForBlock,
        TableRowBlock,
        CommentBlock,
        CaseBlock
    );
    builder = builder.block(Checked(CaptureBlock));
    filters!(
        Abs,
        Append,
        AtLeast,
        AtMost,
        Capitalize,
        Ceil,
        Compact,
        Concat,
        Date,
        Default,
        DividedBy,
        Downcase,
        Escape,
        EscapeOnce,
        First,
        Floor,
        Join,
        Last,
        Lstrip,
        Map,
        Minus,
        Modulo,
        NewlineToBr,
        Plus,
        Prepend,
        Remove,
        RemoveFirst,
        Replace,
        ReplaceFirst,
        Reverse,
        Round,
        Rstrip,
        Size,
        Slice,
        Sort,
        SortNatural,
        Split,
        Strip,
        StripHtml,
        StripNewlines,
        Times,
        Truncate,
        TruncateWords,
        Uniq,
        Upcase,
        UrlDecode,
        UrlEncode,
        Where
    );
    builder.build()
}

/// The bytes a value holds, entries counted with their overhead.
fn size(value: &dyn ValueView) -> usize {
    if let Some(array) = value.as_array() {
        array
            .values()
            .map(|v| ENTRY_BYTES.saturating_add(size(v)))
            .fold(0, usize::saturating_add)
    } else if let Some(object) = value.as_object() {
        object
            .iter()
            .map(|(k, v)| ENTRY_BYTES.saturating_add(k.len()).saturating_add(size(v)))
            .fold(0, usize::saturating_add)
    } else {
        value.as_scalar().map_or(0, |s| s.to_kstr().len())
    }
}

/// The render's running totals, kept in the runtime's registers.
#[derive(Default)]
struct Budget {
    started: Option<Instant>,
    produced: usize,
}

/// Counts `bytes` of work and the time so far against the render's budget.
fn charge(runtime: &dyn Runtime, bytes: usize) -> Result<()> {
    let mut budget = runtime.registers().get_mut::<Budget>();
    let started = *budget.started.get_or_insert_with(Instant::now);
    budget.produced = budget.produced.saturating_add(bytes);
    if budget.produced > MAX_WORK_BYTES {
        return Err(Error::with_msg(format!(
            "the template produces more than {} MB in all",
            MAX_WORK_BYTES >> 20
        )));
    }
    if started.elapsed() > MAX_RENDER_TIME {
        return Err(Error::with_msg(format!(
            "the template runs longer than {} s",
            MAX_RENDER_TIME.as_secs()
        )));
    }
    Ok(())
}

fn too_large(what: &str) -> Error {
    Error::with_msg(format!(
        "{what} would be larger than {} KB",
        MAX_VALUE_BYTES >> 10
    ))
}

/// Runs `f`, turning a panic into an error: liquid's arithmetic panics on
/// overflow (`i64::MIN / -1` even in release builds), and a panic would end
/// the mail worker.
fn unpanicked<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(Error::with_msg(format!("`{what}` failed"))))
}

/// A standard tag or block whose every render is counted against the budget.
#[derive(Clone)]
struct Checked<T>(T);

#[derive(Debug)]
struct CheckedRender(Box<dyn Renderable>);

impl Renderable for CheckedRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> Result<()> {
        charge(runtime, 0)?;
        self.0.render_to(writer, runtime)
    }
}

impl<T: ParseTag + Clone + 'static> ParseTag for Checked<T> {
    fn parse(&self, arguments: TagTokenIter, options: &Language) -> Result<Box<dyn Renderable>> {
        Ok(Box::new(CheckedRender(self.0.parse(arguments, options)?)))
    }

    fn reflection(&self) -> &dyn TagReflection {
        self.0.reflection()
    }
}

impl<T: ParseBlock + Clone + 'static> ParseBlock for Checked<T> {
    fn parse(
        &self,
        arguments: TagTokenIter,
        block: TagBlock,
        options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        Ok(Box::new(CheckedRender(
            self.0.parse(arguments, block, options)?,
        )))
    }

    fn reflection(&self) -> &dyn BlockReflection {
        self.0.reflection()
    }
}

/// A standard filter whose input, arguments and result are bounded.
#[derive(Clone)]
struct Bounded<F>(F);

impl<F: ParseFilter + Clone + 'static> ParseFilter for Bounded<F> {
    fn parse(&self, arguments: FilterArguments) -> Result<Box<dyn Filter>> {
        let positional: Vec<Expression> = arguments.positional.collect();
        let keyword: Vec<(&str, Expression)> = arguments.keyword.collect();
        let mut all = positional.clone();
        all.extend(keyword.iter().map(|(_, e)| e.clone()));
        let inner = self.0.parse(FilterArguments {
            positional: Box::new(positional.into_iter()),
            keyword: Box::new(keyword.into_iter()),
        })?;
        Ok(Box::new(BoundedFilter {
            name: self.0.reflection().name().to_string(),
            arguments: all,
            inner,
        }))
    }

    fn reflection(&self) -> &dyn FilterReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct BoundedFilter {
    name: String,
    arguments: Vec<Expression>,
    inner: Box<dyn Filter>,
}

impl fmt::Display for BoundedFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl BoundedFilter {
    /// The most the result can hold, judged before the filter runs.
    fn estimate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<usize> {
        let mut args = Vec::with_capacity(self.arguments.len());
        for expression in &self.arguments {
            args.push(expression.evaluate(runtime)?);
        }
        let text = |i: usize| {
            <[_]>::get(&args, i)
                .and_then(|a| a.as_scalar())
                .map(|s| s.to_kstr().to_string())
        };
        let input_size = size(input);
        let args_size = args
            .iter()
            .map(|a| size(a.as_view()))
            .fold(0, usize::saturating_add);
        Ok(match self.name.as_str() {
            // Each match of the pattern becomes the replacement.
            "replace" => {
                let subject = input.to_kstr();
                let pattern = text(0).unwrap_or_default();
                let matches = if pattern.is_empty() {
                    subject.chars().count() + 1
                } else {
                    subject.matches(pattern.as_str()).count()
                };
                let replacement = text(1).unwrap_or_default().len();
                input_size.saturating_add(matches.saturating_mul(replacement))
            }
            // The separator goes between every two items.
            "join" => {
                let items = input.as_array().map_or(1, |a| a.size() as usize);
                let separator = text(0).map_or(1, |s| s.len());
                input_size.saturating_add(items.saturating_mul(separator))
            }
            _ => input_size.saturating_add(args_size),
        })
    }
}

impl Filter for BoundedFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Value> {
        if self.estimate(input, runtime)? > MAX_VALUE_BYTES {
            return Err(too_large(&format!("the result of `{}`", self.name)));
        }
        let value = unpanicked(&self.name, || self.inner.evaluate(input, runtime))?;
        let made = size(&value);
        if made > MAX_VALUE_BYTES {
            return Err(too_large(&format!("the result of `{}`", self.name)));
        }
        charge(runtime, made)?;
        Ok(value)
    }
}

/// `{% capture name %}…{% endcapture %}`, as the standard one, keeping at
/// most [`MAX_VALUE_BYTES`].
#[derive(Clone, Copy, Debug)]
struct CaptureBlock;

impl BlockReflection for CaptureBlock {
    fn start_tag(&self) -> &str {
        "capture"
    }

    fn end_tag(&self) -> &str {
        "endcapture"
    }

    fn description(&self) -> &str {
        "Renders its content into a variable."
    }
}

impl ParseBlock for CaptureBlock {
    fn parse(
        &self,
        mut arguments: TagTokenIter,
        mut tokens: TagBlock,
        options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        let id = arguments
            .expect_next("Identifier expected")?
            .expect_identifier()
            .into_result()?
            .to_string();
        arguments.expect_nothing()?;
        let template = Template::new(tokens.parse_all(options)?);
        tokens.assert_empty();
        Ok(Box::new(Capture { id, template }))
    }

    fn reflection(&self) -> &dyn BlockReflection {
        self
    }
}

#[derive(Debug)]
struct Capture {
    id: String,
    template: Template,
}

impl Renderable for Capture {
    fn render_to(&self, _writer: &mut dyn Write, runtime: &dyn Runtime) -> Result<()> {
        let mut captured = LimitedBuffer::default();
        if let Err(e) = self.template.render_to(&mut captured, runtime) {
            return Err(if captured.exceeded {
                too_large(&format!("`capture {}`", self.id))
            } else {
                e
            });
        }
        charge(runtime, captured.bytes.len())?;
        let text = String::from_utf8(captured.bytes)
            .map_err(|_| Error::with_msg("capture rendered invalid UTF-8"))?;
        runtime.set_global(self.id.clone().into(), Value::scalar(text));
        Ok(())
    }
}

#[derive(Default)]
struct LimitedBuffer {
    bytes: Vec<u8>,
    exceeded: bool,
}

impl Write for LimitedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_VALUE_BYTES {
            self.exceeded = true;
            return Err(std::io::Error::other("captured too much"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
