// Prompt files as a user writes them, and what a user sees when one is wrong:
// the file, the line and what is wrong with it, before any request is sent;
// and, through the controller and the real runner, a benchmark that fails
// at once with that message instead of being retried.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { validateResource } from '../../../../controller/api/validate.js';
import { ConfigError } from '../../../../clients/client.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { parsePromptFile, promptFileProblems, readPromptFile } from '../../../../clients/llm/prompt-file.js';
import { promptsOf } from '../../../../clients/llm/prompts.js';
import { LlmWorkload } from '../../../../clients/llm/schema.js';
import { runRunner } from '../../../../clients/runner/run.js';
import { startFakeVllm, type FakeVllm } from '../../../fakes/vllm-server.js';
import { reconcilerWorld, type ReconcilerWorld } from '../../reconcile/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'aifb-prompts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A prompt file with these lines, joined with `eol`. */
function file(lines: string[], eol = '\n'): string {
  const path = join(dir, `prompts-${n++}.jsonl`);
  writeFileSync(path, lines.join(eol));
  return path;
}
const problemsOf = (path: string) => parsePromptFile(path, 64).problems;

describe('a JSONL prompt file', () => {
  it('reads text, prompt, messages and ShareGPT conversations, with a byte-order mark and CRLF line ends', () => {
    const path = file(
      [
        '\uFEFF"Say hello."',
        '{"prompt": "Write a haiku.", "max_tokens": 20}',
        '',
        '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is a GPU?"}]}',
        '{"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}, {"from": "human", "value": "Bye"}]}',
      ],
      '\r\n',
    );
    expect(readPromptFile(path, 64)).toEqual([
      { messages: [{ role: 'user', content: 'Say hello.' }], maxTokens: 64 },
      { messages: [{ role: 'user', content: 'Write a haiku.' }], maxTokens: 20 },
      { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is a GPU?' }], maxTokens: 64 },
      // Up to the first model turn: what the model is asked, not what it answered.
      { messages: [{ role: 'user', content: 'Hi' }], maxTokens: 64 },
    ]);
  });

  it('names the file and the line of every problem, and what is wrong on it', () => {
    const path = file([
      '"fine"',
      '{"prompt": "fine too"}',
      '{"prompt": "no end quote}',
      '{"prompt": ""}',
      '{"text": "a field it does not know"}',
      '{"prompt": "x", "max_tokens": "64"}',
      '{"messages": [{"role": "bot", "content": "hi"}]}',
    ]);
    const problems = problemsOf(path);
    expect(problems).toHaveLength(5);
    expect(problems[0]).toBe(`${path} line 3 is not JSON (Unterminated string at column 26); each line must be one JSON value`);
    expect(problems.slice(1)).toEqual([
      `${path} line 4 has an empty "prompt"`,
      `${path} line 5 has none of "prompt", "messages" or "conversations"`,
      `${path} line 6 has "max_tokens": "64", not a whole number above 0`,
      `${path} line 7 has a message without role (system, user or assistant) and content`,
    ]);
    // As the runner reports it: one ConfigError at workload.promptFile, every problem in it.
    expect(() => readPromptFile(path, 64)).toThrow(ConfigError);
    try {
      readPromptFile(path, 64);
    } catch (e) {
      expect((e as ConfigError).problems.map((p) => p.path)).toEqual(Array(5).fill('workload.promptFile'));
    }
  });

  it('names five bad lines, then counts the rest, so a file broken throughout makes a short message', () => {
    const path = file(Array.from({ length: 40 }, (_, i) => `prompt number ${i}`));
    const problems = problemsOf(path);
    expect(problems).toHaveLength(6);
    expect(problems[4]).toMatch(new RegExp(`^${path} line 5 is not JSON`));
    expect(problems[5]).toBe(`${path} has 35 more bad lines after line 5`);
  });

  it('says how to convert a dataset shipped as one JSON array (as ShareGPT is) instead of one value per line', () => {
    const path = file(['[', '  {"conversations": [{"from": "human", "value": "Hi"}]},', '  {"conversations": [{"from": "human", "value": "Yo"}]}', ']']);
    expect(problemsOf(path)).toEqual([`${path} is one JSON array, not JSON Lines (one value per line); convert it, e.g. jq -c '.[]' ${path} > prompts.jsonl`]);
  });

  it('says when the file is missing, is a folder, or holds nothing', () => {
    const missing = join(dir, 'nowhere.jsonl');
    const where = "the runner reads it where it runs, so give a JSONL file that is there (a shared file system on a cluster)";
    expect(problemsOf(missing)).toEqual([`cannot read ${missing}: it does not exist; ${where}`]);
    const folder = join(dir, 'a-folder.jsonl');
    mkdirSync(folder);
    expect(problemsOf(folder)).toEqual([`cannot read ${folder}: it is a folder; ${where}`]);
    const empty = file(['', '   ', '']);
    expect(problemsOf(empty)).toEqual([`${empty} holds no prompts; write one JSON value per line`]);
  });

  it('is read through the workload, with maxTokens for lines that give none', () => {
    const path = file(['"a"', '{"prompt": "b", "max_tokens": 7}']);
    expect(promptsOf(LlmWorkload.parse({ type: 'llm', promptFile: path, maxTokens: 32 })).map((p) => p.maxTokens)).toEqual([32, 7]);
  });

  it('must be an absolute path: validation names the field before anything starts', () => {
    const r = validateResource({
      apiVersion: 'aifb.io/v1alpha1',
      kind: 'Benchmark',
      metadata: { name: 'b' },
      spec: { serviceRef: 'vllm', workload: { type: 'llm', promptFile: 'prompts/chat.jsonl' }, load: { duration: '10s' } },
    });
    expect(r.ok ? [] : r.problems).toEqual([{ path: 'spec.workload.promptFile', message: 'must be an absolute path (/...): the runner reads it on its node, from its own run folder' }]);
  });

  it('checked again (as a controller re-validating would), sees a file fixed since', () => {
    const path = file(['"ok"', 'not json']);
    expect(promptFileProblems(path)).toEqual([`${path} line 2 is not JSON (Unexpected token 'o', "not json" is not valid JSON); each line must be one JSON value`]);
    writeFileSync(path, '"ok"\n"fixed now"\n');
    expect(promptFileProblems(path)).toEqual([]);
  });
});

describe('a bad prompt file through the controller and the runner', () => {
  let world: ReconcilerWorld | undefined;
  let vllm: FakeVllm | undefined;
  afterEach(async () => {
    world?.shutdown();
    await vllm?.close();
    world = undefined;
    vllm = undefined;
  });

  /**
   * A running vLLM behind a Service, and a benchmark reading promptFile, whose
   * runner is the real one, in this process; `beforeRun` acts between the
   * controller's validation and the runner's start.
   */
  async function benchmarkWith(promptFile: string, beforeRun?: () => void) {
    vllm = await startFakeVllm();
    world = reconcilerWorld();
    const w = world;
    w.executor.onLaunch = async (spec, launched) => {
      beforeRun?.();
      const code = await runRunner({
        specPath: join(spec.dir, 'spec.json'),
        outDir: spec.dir,
        rank: 0,
        clock: systemClock,
        signal: new AbortController().signal,
        emit: () => undefined,
        warn: () => undefined,
      });
      w.executor.script(launched.id, { state: 'exited', exitCode: code });
    };
    await w.apply(`apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: vllm
spec:
  type: vllm
  endpoint: { host: 127.0.0.1, port: ${vllm.port} }
  readiness: { interval: 1s }
---
apiVersion: aifb.io/v1alpha1
kind: Benchmark
metadata:
  name: chat
spec:
  serviceRef: vllm
  workload: { type: llm, promptFile: ${promptFile}, maxTokens: 4 }
  load: { mode: closed, workers: 1, maxRequests: 5 }
  retries: { max: 3, backoff: 1s }
`);
    // Readiness probes the stand-in over a real socket: give it real time as well.
    for (let i = 0; i < 100 && w.status('Service/vllm')?.phase !== 'Ready' && w.status('Benchmark/chat')?.phase !== 'Invalid'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await w.advance(250);
    }
    return w;
  }

  it('is Invalid before anything starts, naming the file, the line and what is wrong', async () => {
    const path = file(['"Explain a GPU."', '{"prompt": "Explain a TPU."}', '{"prompt": "Explain an FPGA."', '"Explain a DPU."']);
    const w = await benchmarkWith(path);
    const st = w.status('Benchmark/chat')!;
    expect(st.phase).toBe('Invalid');
    expect(st.message).toMatch(new RegExp(`spec\\.workload\\.promptFile: ${path} line 3 is not JSON \\(.+\\); each line must be one JSON value`));
    expect(w.executor.log.filter((l) => l.startsWith('launch benchmark'))).toEqual([]);
    expect(vllm!.requests).toBe(0);
  });

  it('is Invalid when the file is not there', async () => {
    const path = join(dir, 'not-copied-yet.jsonl');
    const w = await benchmarkWith(path);
    expect(w.status('Benchmark/chat')).toMatchObject({ phase: 'Invalid' });
    expect(w.status('Benchmark/chat')!.message).toContain(`cannot read ${path}: it does not exist`);
  });

  it('fails at the first attempt when the file breaks after validation, naming the line, and sends nothing', async () => {
    const path = file(['"Explain a GPU."', '"Explain a TPU."']);
    const w = await benchmarkWith(path, () => writeFileSync(path, '"Explain a GPU."\n{"prompt": \n'));
    const st = await w.until('Benchmark/chat', 'Failed');
    expect(st.attempts).toBe(1);
    expect(st.message).toMatch(
      new RegExp(`^RunnerConfigError: runner attempt 1 exited with code 2: rank 0: invalid workload: workload\\.promptFile: ${path} line 2 is not JSON \\(.+\\); each line must be one JSON value; retrying cannot help`),
    );
    // retries.max is 3, and still one launch: a retry could only read the same file again.
    expect(w.executor.log.filter((l) => l.startsWith('launch'))).toEqual(['launch benchmark.chat.g1.a1.runner']);
    expect(vllm!.requests).toBe(0);
  });
});
