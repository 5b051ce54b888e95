//! Where route expressions run: a small pool of worker processes, each the
//! hookgate binary started as `hookgate __jq-worker`, so that an expression
//! that runs away (`last(range(1e12))`, `def f: [f]; f`, a huge `[...]`)
//! never stalls ingest or the dispatcher and never takes the gateway down.
//!
//! The limits, and how they hold:
//! - **Time.** Each evaluation request gets [`EVAL_LIMIT`] of wall time once
//!   a worker has it; past that the worker is killed (SIGKILL) and the
//!   request answered with an error. The other workers keep serving.
//! - **Memory.** A worker limits its own address space to
//!   [`WORKER_MEMORY`] at start; an expression that allocates past it makes
//!   the worker fail, which is answered as an error like a timeout.
//! - **Output.** An output over [`MAX_OUTPUT`] bytes of JSON is an error.
//! - **Nothing else.** Workers start with an empty environment (`env` and
//!   `$ENV` see nothing), cannot read files (jq `import` has no search
//!   path) and write nothing but their answers.
//!
//! A killed or failed worker is started again on the next request. Requests
//! are frames on the worker's stdin/stdout: a little-endian `u32` length,
//! then the payload. The first frame names the expressions (a JSON array of
//! strings); each request then lists the expressions to run (their indices)
//! and the input document; the answer is a JSON array with, per expression,
//! `{"v": first output}`, `{}` (no output) or `{"e": error}`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::jq;

/// Wall time an evaluation request may take in a worker.
pub const EVAL_LIMIT: Duration = Duration::from_secs(1);
/// Address space a worker may use.
pub const WORKER_MEMORY: u64 = 1 << 30;
/// The largest output, as JSON text, an expression may give.
pub const MAX_OUTPUT: usize = 16 << 20;
/// Worker processes per gateway.
const WORKERS: usize = 2;
/// The argument that makes the binary a worker.
pub const WORKER_ARG: &str = "__jq-worker";

/// What one expression gave: its first output as JSON, `None` for no
/// output, or the error.
pub type Outcome = Result<Option<Value>, String>;

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// The binary to start workers from, where it is not this process's own
/// (an embedding program, or tests that run the gateway in-process).
#[doc(hidden)]
pub fn set_worker_program(path: PathBuf) {
    let _ = PROGRAM.set(path);
}

fn program() -> Result<PathBuf, String> {
    match PROGRAM.get() {
        Some(p) => Ok(p.clone()),
        None => {
            std::env::current_exe().map_err(|e| format!("cannot find the hookgate binary: {e}"))
        }
    }
}

/// The expressions of a routing table and the workers that run them,
/// started on first use.
pub struct Sandbox {
    expressions: Arc<Vec<String>>,
    queue: OnceLock<mpsc::Sender<Job>>,
}

struct Job {
    request: Vec<u8>,
    count: usize,
    reply: oneshot::Sender<Result<Vec<Outcome>, String>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sandbox({} expressions)", self.expressions.len())
    }
}

impl Sandbox {
    pub fn new(expressions: Vec<String>) -> Sandbox {
        Sandbox {
            expressions: Arc::new(expressions),
            queue: OnceLock::new(),
        }
    }

    /// Runs the expressions numbered `which` over the JSON `document`.
    /// `Err` only when no worker could be asked (the binary cannot be
    /// started); an expression's own failure, time-out included, is its
    /// [`Outcome`].
    pub async fn run(&self, which: &[usize], document: &[u8]) -> Result<Vec<Outcome>, String> {
        if which.is_empty() {
            return Ok(Vec::new());
        }
        let mut request = Vec::with_capacity(4 + 4 * which.len() + document.len());
        request.extend_from_slice(&(which.len() as u32).to_le_bytes());
        for &i in which {
            request.extend_from_slice(&(i as u32).to_le_bytes());
        }
        request.extend_from_slice(document);
        let (reply, answer) = oneshot::channel();
        let job = Job {
            request,
            count: which.len(),
            reply,
        };
        self.queue()
            .send(job)
            .await
            .map_err(|_| "the expression workers stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the expression workers stopped".to_string())?
    }

    fn queue(&self) -> &mpsc::Sender<Job> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>(1024);
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..WORKERS {
                tokio::spawn(serve(self.expressions.clone(), rx.clone()));
            }
            tx
        })
    }
}

/// One worker slot: takes jobs from the shared queue and runs each in its
/// worker process, starting (or restarting) it when needed.
async fn serve(expressions: Arc<Vec<String>>, jobs: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut worker: Option<Worker> = None;
    loop {
        let job = { jobs.lock().await.recv().await };
        let Some(job) = job else { return };
        if worker.is_none() {
            match Worker::start(&expressions).await {
                Ok(w) => worker = Some(w),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start a jq worker");
                    let _ = job.reply.send(Err(e));
                    continue;
                }
            }
        }
        let w = worker.as_mut().expect("started above");
        let answer = match tokio::time::timeout(EVAL_LIMIT, w.ask(&job.request)).await {
            Ok(Ok(bytes)) => decode(&bytes, job.count),
            Ok(Err(e)) => Err(format!("the expression failed: {e}")),
            Err(_) => Err(format!(
                "the expression ran longer than {} ms and was stopped",
                EVAL_LIMIT.as_millis()
            )),
        };
        let outcomes = match answer {
            Ok(outcomes) => outcomes,
            Err(error) => {
                // Whatever state the worker is in, it is not trusted again.
                if let Some(mut dead) = worker.take() {
                    let _ = dead.child.start_kill();
                    let _ = dead.child.wait().await;
                }
                tracing::warn!(%error, "jq worker replaced");
                vec![Err(error); job.count]
            }
        };
        let _ = job.reply.send(Ok(outcomes));
    }
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

impl Worker {
    async fn start(expressions: &[String]) -> Result<Worker, String> {
        let mut child = Command::new(program()?)
            .arg(WORKER_ARG)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start a jq worker: {e}"))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let mut worker = Worker {
            child,
            stdin,
            stdout,
        };
        let names = serde_json::to_vec(expressions).expect("strings serialize");
        let ready = tokio::time::timeout(EVAL_LIMIT * 10, worker.ask(&names))
            .await
            .map_err(|_| "a jq worker did not start in time".to_string())?
            .map_err(|e| format!("a jq worker did not start: {e}"))?;
        if ready != b"ok" {
            return Err(format!(
                "a jq worker refused the expressions: {}",
                String::from_utf8_lossy(&ready)
            ));
        }
        Ok(worker)
    }

    async fn ask(&mut self, payload: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut frame = Vec::with_capacity(4 + payload.len());
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(payload);
        self.stdin.write_all(&frame).await?;
        self.stdin.flush().await?;
        let mut len = [0u8; 4];
        self.stdout.read_exact(&mut len).await?;
        let len = u32::from_le_bytes(len) as usize;
        let mut answer = vec![0u8; len];
        self.stdout.read_exact(&mut answer).await?;
        Ok(answer)
    }
}

fn decode(bytes: &[u8], count: usize) -> Result<Vec<Outcome>, String> {
    let items: Vec<Value> =
        serde_json::from_slice(bytes).map_err(|e| format!("unreadable worker answer: {e}"))?;
    if items.len() != count {
        return Err("the worker answered the wrong number of results".into());
    }
    Ok(items
        .into_iter()
        .map(|item| match item {
            Value::Object(mut o) => {
                if let Some(Value::String(e)) = o.remove("e") {
                    Err(e)
                } else {
                    Ok(o.remove("v"))
                }
            }
            _ => Err("unreadable worker answer".into()),
        })
        .collect())
}

/// The worker's side: `hookgate __jq-worker`. Reads the expressions, then
/// answers requests until stdin closes.
pub fn worker_main() -> ! {
    let _ = rlimit::setrlimit(rlimit::Resource::AS, WORKER_MEMORY, WORKER_MEMORY);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let (mut input, mut output) = (stdin.lock(), stdout.lock());
    let code = worker_loop(&mut input, &mut output);
    let _ = output.flush();
    std::process::exit(code.into())
}

fn worker_loop(input: &mut impl Read, output: &mut impl Write) -> u8 {
    let Some(names) = read_frame(input) else {
        return 1;
    };
    let compiled: Result<Vec<jq::Expr>, String> = serde_json::from_slice::<Vec<String>>(&names)
        .map_err(|e| e.to_string())
        .and_then(|codes| codes.iter().map(|c| jq::Expr::compile(c)).collect());
    let exprs = match compiled {
        Ok(exprs) => {
            write_frame(output, b"ok");
            exprs
        }
        Err(e) => {
            write_frame(output, e.as_bytes());
            return 1;
        }
    };
    while let Some(request) = read_frame(input) {
        write_frame(output, &answer(&exprs, &request));
    }
    0
}

/// Runs one request: `[u32 n][n x u32 index][document]`.
fn answer(exprs: &[jq::Expr], request: &[u8]) -> Vec<u8> {
    let word = |i: usize| -> Option<usize> {
        request
            .get(i * 4..i * 4 + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
    };
    let n = word(0).unwrap_or(0);
    let which: Vec<usize> = (1..=n).filter_map(word).collect();
    let document = request.get(4 + 4 * n..).unwrap_or_default();
    let input = jq::parse(document);
    let items: Vec<Value> = which
        .iter()
        .map(|&i| {
            let result = match (&input, exprs.get(i)) {
                (Err(e), _) => Err(format!("the event document is not JSON: {e}")),
                (_, None) => Err("no such expression".to_string()),
                (Ok(doc), Some(expr)) => expr.first(doc.clone()),
            };
            match result {
                Ok(None) => serde_json::json!({}),
                Ok(Some(v)) => {
                    let text = v.to_string();
                    if text.len() > MAX_OUTPUT {
                        serde_json::json!({"e": format!("the output is larger than {MAX_OUTPUT} bytes")})
                    } else {
                        match serde_json::from_str::<Value>(&text) {
                            Ok(v) => serde_json::json!({ "v": v }),
                            Err(_) => serde_json::json!({"e": "the output is not JSON (NaN, infinity or bytes)"}),
                        }
                    }
                }
                Err(e) => serde_json::json!({ "e": e }),
            }
        })
        .collect();
    serde_json::to_vec(&items).expect("values serialize")
}

fn read_frame(input: &mut impl Read) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len).ok()?;
    let mut payload = vec![0u8; u32::from_le_bytes(len) as usize];
    input.read_exact(&mut payload).ok()?;
    Some(payload)
}

fn write_frame(output: &mut impl Write, payload: &[u8]) {
    let _ = output.write_all(&(payload.len() as u32).to_le_bytes());
    let _ = output.write_all(payload);
    let _ = output.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(which: &[u32], doc: &str) -> Vec<u8> {
        let mut r = (which.len() as u32).to_le_bytes().to_vec();
        for i in which {
            r.extend_from_slice(&i.to_le_bytes());
        }
        r.extend_from_slice(doc.as_bytes());
        r
    }

    /// The worker's protocol, run in-process over byte buffers.
    #[test]
    fn the_worker_answers_each_expression_asked() {
        let names = serde_json::to_vec(&[".a > 1", "{b: .a}", "error(\"no\")", "empty"]).unwrap();
        let mut input = Vec::new();
        for payload in [
            names,
            request(&[0, 1, 2, 3], r#"{"a": 2}"#),
            request(&[1], "nope"),
        ] {
            input.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            input.extend_from_slice(&payload);
        }
        let mut output = Vec::new();
        assert_eq!(worker_loop(&mut input.as_slice(), &mut output), 0);
        let mut out = output.as_slice();
        assert_eq!(read_frame(&mut out).unwrap(), b"ok");
        let first = decode(&read_frame(&mut out).unwrap(), 4).unwrap();
        assert_eq!(first[0], Ok(Some(serde_json::json!(true))));
        assert_eq!(first[1], Ok(Some(serde_json::json!({"b": 2}))));
        assert!(first[2].as_ref().unwrap_err().contains("no"));
        assert_eq!(first[3], Ok(None));
        let second = decode(&read_frame(&mut out).unwrap(), 1).unwrap();
        assert!(second[0].as_ref().unwrap_err().contains("not JSON"));
    }
}
