//! jq expressions as routes use them: compiled with jaq (a jq
//! implementation in Rust, with jq's standard library), and evaluated for
//! their first output only.
//!
//! Compilation happens twice for each expression: once in the gateway at
//! start-up, where an error is a configuration error naming the route and
//! the place in the expression, and once in each evaluation worker
//! ([`super::sandbox`]), which is the only place an expression runs outside
//! tests. Values here are jaq's (reference-counted, not `Send`), so an
//! [`Expr`] stays on the thread that compiled it.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;

type Data = data::JustLut<Val>;

/// One compiled expression.
pub struct Expr {
    filter: jaq_core::Filter<Data>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Expr")
    }
}

/// What an expression gave for one input: its first output, or none.
pub type Output = Option<Val>;

impl Expr {
    /// Compiles `code`; the error says where it is wrong (line and column,
    /// 1-based, and the text found there).
    pub fn compile(code: &str) -> Result<Expr, String> {
        let arena = Arena::default();
        let loader = Loader::new(
            jaq_core::defs()
                .chain(jaq_std::defs())
                .chain(jaq_json::defs()),
        );
        let file = File { code, path: () };
        let modules = loader
            .load(&arena, file)
            .map_err(|errors| describe_load_errors(code, errors))?;
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let mut out = Vec::new();
                for (_, undefined) in errors {
                    for (name, kind) in undefined {
                        out.push(format!(
                            "{} {name:?} is not defined {}",
                            kind.as_str(),
                            position(code, name)
                        ));
                    }
                }
                out.join("; ")
            })?;
        Ok(Expr { filter })
    }

    /// The first output for `input` (`None` when there is none), or the
    /// error the expression raised before giving one.
    pub fn first(&self, input: Val) -> Result<Output, String> {
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new([]));
        match self.filter.id.run((ctx, input)).map(unwrap_valr).next() {
            None => Ok(None),
            Some(Ok(v)) => Ok(Some(v)),
            Some(Err(e)) => Err(e.to_string()),
        }
    }
}

/// Parses JSON text into a jaq value.
pub fn parse(json: &[u8]) -> Result<Val, String> {
    jaq_json::read::parse_single(json).map_err(|e| e.to_string())
}

/// Whether a filter's output takes the event: present and neither `false`
/// nor `null`.
pub fn truthy(output: &Output) -> bool {
    !matches!(output, None | Some(Val::Null) | Some(Val::Bool(false)))
}

/// Where `part` (a slice of `code`) starts, as "at line L, column C".
fn position(code: &str, part: &str) -> String {
    let start = (part.as_ptr() as usize).wrapping_sub(code.as_ptr() as usize);
    if start > code.len() {
        return "at the end".to_string();
    }
    let before = &code[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("at line {line}, column {column}")
}

fn describe_load_errors(code: &str, errors: jaq_core::load::Errors<&str, ()>) -> String {
    use jaq_core::load::Error;
    let mut out = Vec::new();
    for (_, error) in errors {
        match error {
            Error::Io(list) => out.extend(list.into_iter().map(|(path, e)| format!("{path}: {e}"))),
            Error::Lex(list) => out.extend(list.into_iter().map(|(expect, found)| {
                format!(
                    "expected {} {} (found {:?})",
                    expect.as_str(),
                    position(code, found),
                    shorten(found)
                )
            })),
            Error::Parse(list) => out.extend(list.into_iter().map(|(expect, found)| {
                if found.is_empty() {
                    format!("expected {} at the end", expect.as_str())
                } else {
                    format!(
                        "expected {} {} (found {:?})",
                        expect.as_str(),
                        position(code, found),
                        shorten(found)
                    )
                }
            })),
        }
    }
    out.join("; ")
}

fn shorten(text: &str) -> String {
    text.chars().take(20).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first output of `code` over the JSON `input`, as JSON text.
    fn eval(code: &str, input: &str) -> Result<Option<String>, String> {
        let expr = Expr::compile(code)?;
        Ok(expr.first(parse(input.as_bytes())?)?.map(|v| v.to_string()))
    }

    fn takes(code: &str, input: &str) -> bool {
        let expr = Expr::compile(code).unwrap();
        truthy(&expr.first(parse(input.as_bytes()).unwrap()).unwrap())
    }

    const STRIPE: &str = r#"{"event_type":"invoice.paid","headers":{"x-a":"1"},
        "body":{"livemode":true,"type":"invoice.paid","data":{"object":{"amount_paid":2000,"customer":"cus_1",
        "lines":[{"amount":1500},{"amount":500}]}},"ref":"refs/heads/main"}}"#;

    #[test]
    fn operators_users_reach_for() {
        assert!(takes(
            ".body.livemode and .body.data.object.amount_paid > 0",
            STRIPE
        ));
        assert!(!takes(
            ".body.livemode and .body.data.object.amount_paid > 5000",
            STRIPE
        ));
        assert!(takes(r#".event_type == "invoice.paid""#, STRIPE));
        assert!(takes(r#".event_type != "charge.failed" or false"#, STRIPE));
        assert!(takes(".body.livemode | not | not", STRIPE));
        assert!(takes(r#".body | has("livemode")"#, STRIPE));
        assert!(!takes(r#".body | has("nothing")"#, STRIPE));
        assert!(takes(r#".body.ref | startswith("refs/heads/")"#, STRIPE));
        assert!(takes(
            r#".body.ref | test("^refs/heads/(main|master)$")"#,
            STRIPE
        ));
        assert!(takes(
            ".body.data.object.lines | any(.amount > 1000)",
            STRIPE
        ));
        assert!(!takes(
            ".body.data.object.lines | all(.amount > 1000)",
            STRIPE
        ));
        assert!(takes(r#".headers["x-a"] == "1""#, STRIPE));
        assert!(takes(r#".body.currency == null"#, STRIPE));
    }

    #[test]
    fn missing_fields_are_null_not_errors() {
        assert_eq!(
            eval(".body.nothing.deeper", STRIPE).unwrap().as_deref(),
            Some("null")
        );
        assert!(!takes(".body.nothing.deeper", STRIPE));
        // An error is an error, not a refusal: indexing a string.
        assert!(Expr::compile(".body.ref.x")
            .unwrap()
            .first(parse(STRIPE.as_bytes()).unwrap())
            .is_err());
    }

    #[test]
    fn transforms_and_keys_give_their_first_output() {
        assert_eq!(
            eval(
                "{id: .body.type, customer: .body.data.object.customer}",
                STRIPE
            )
            .unwrap()
            .as_deref(),
            Some(r#"{"id":"invoice.paid","customer":"cus_1"}"#)
        );
        assert_eq!(
            eval(".body.data.object.lines[].amount", STRIPE)
                .unwrap()
                .as_deref(),
            Some("1500")
        );
        assert_eq!(eval("empty", STRIPE).unwrap(), None);
    }

    #[test]
    fn errors_say_where_the_expression_is_wrong() {
        let e = Expr::compile(".body |").unwrap_err();
        assert!(e.contains("expected"), "{e}");
        let e = Expr::compile(".a and\n  nosuchfn(1)").unwrap_err();
        assert!(
            e.contains("nosuchfn") && e.contains("line 2, column 3"),
            "{e}"
        );
        let e = Expr::compile("{a: }").unwrap_err();
        assert!(e.contains("column"), "{e}");
    }
}
