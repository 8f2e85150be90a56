import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { BacktestResultError, resultZipMembers, type S3Prefix, toWorkflowError } from '@tradai/lambda-kit';
import { unzipSync } from 'fflate';

/** Larger than any freqtrade result we have seen (the trades list dominates); bounds Lambda memory. */
export const MAX_RESULT_BYTES = 100 * 1024 * 1024;

/** freqtrade's pointer to the newest result in a results folder. */
const LAST_RESULT_FILE = '.last_result.json';

const isResultFile = (name: string) =>
  /\.(json|zip)$/.test(name) &&
  !name.startsWith('.') &&
  !name.endsWith('.meta.json') &&
  !name.endsWith('_config.json');

/**
 * The key of the run's freqtrade result under `results/`: the file `.last_result.json` names
 * (freqtrade writes it), else the newest `*.json`/`*.zip` that is not a `.meta.json` or config.
 */
export const findResultKey = async (s3: S3Client, bucket: string, results: S3Prefix): Promise<string> => {
  const objects: { key: string; modified: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3
      .send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: results.listPrefix, ContinuationToken: token }),
      )
      .catch((error: unknown) => {
        throw toWorkflowError(error, 'Listing the backtest results');
      });
    for (const object of page.Contents ?? []) {
      if (object.Key && results.contains(object.Key)) {
        objects.push({ key: object.Key, modified: object.LastModified?.getTime() ?? 0 });
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  const names = new Map(objects.map((object) => [object.key.slice(results.listPrefix.length), object]));
  if (names.has(LAST_RESULT_FILE)) {
    const latest = await readPointer(s3, bucket, results.listPrefix + LAST_RESULT_FILE);
    if (names.has(latest) && isResultFile(latest)) return results.listPrefix + latest;
  }
  const candidates = [...names.entries()]
    .filter(([name]) => !name.includes('/') && isResultFile(name))
    .sort(([, a], [, b]) => b.modified - a.modified);
  const newest = candidates[0];
  if (!newest) {
    throw new BacktestResultError(
      `No freqtrade result file under ${results.listPrefix} (found ${objects.length} object(s)); the strategy container must write one there`,
    );
  }
  return newest[1].key;
};

/**
 * The file freqtrade's `.last_result.json` names. A pointer that is not a JSON object with a
 * `latest_backtest` string (null, truncated, another shape) means the container's output is
 * broken: a BacktestResultError that says so, never a TypeError or SyntaxError.
 */
const readPointer = async (s3: S3Client, bucket: string, key: string): Promise<string> => {
  const text = new TextDecoder().decode(await readObject(s3, bucket, key));
  let pointer: unknown;
  try {
    pointer = JSON.parse(text);
  } catch (error) {
    throw new BacktestResultError(`${key} is not valid JSON (${text.length} bytes)`, { cause: error });
  }
  const latest = (pointer as { latest_backtest?: unknown } | null)?.latest_backtest;
  if (typeof pointer !== 'object' || pointer === null || typeof latest !== 'string') {
    throw new BacktestResultError(
      `${key} must be an object naming latest_backtest, found ${text.slice(0, 100)}`,
    );
  }
  return latest;
};

export const readObject = async (s3: S3Client, bucket: string, key: string): Promise<Uint8Array> => {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
    throw toWorkflowError(error, `Reading ${key}`);
  });
  if ((object.ContentLength ?? 0) > MAX_RESULT_BYTES) {
    throw new BacktestResultError(
      `${key} is ${object.ContentLength} bytes, above the ${MAX_RESULT_BYTES} limit`,
    );
  }
  if (!object.Body) throw new BacktestResultError(`${key} has no body`);
  return object.Body.transformToByteArray();
};

export interface ResultFile {
  /** The result JSON (`{strategy: {...}}`). */
  result: unknown;
  /** The strategy parameter file freqtrade stored beside it (2025.1+ zips), if it had one. */
  parameters?: unknown;
}

const parseJson = (what: string, bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new BacktestResultError(`${what} is not valid JSON`, { cause: error });
  }
};

/**
 * The result JSON, from a `.json` file (freqtrade 2024.x) or from freqtrade's `.zip` (2025.1+),
 * where the result is the member freqtrade itself reads back, `<zip stem>.json`, beside
 * `<stem>_config.json`, `<stem>_<Strategy>.json` (the parameters), the strategy's source and
 * market-change data (resultZipMembers, @tradai/lambda-kit's freqtrade contract).
 */
export const parseResultFile = (key: string, bytes: Uint8Array, strategy: string): ResultFile => {
  if (!key.endsWith('.zip')) return { result: parseJson(key, bytes) };
  const members = resultZipMembers(key);
  const wanted = new Set([members.result, members.parameters(strategy)]);
  let files: Record<string, Uint8Array>;
  const names: string[] = [];
  try {
    files = unzipSync(bytes, {
      filter: (file) => {
        names.push(file.name);
        // fflate allocates a member's stated size before inflating it: a member larger than any
        // result (a zip bomb, or a broken zip) is refused before that, not after the Lambda's memory.
        if (wanted.has(file.name) && file.originalSize > MAX_RESULT_BYTES) {
          throw new BacktestResultError(
            `${key}: ${file.name} inflates to ${file.originalSize} bytes, above the ${MAX_RESULT_BYTES} limit`,
          );
        }
        return wanted.has(file.name);
      },
    });
  } catch (error) {
    if (error instanceof BacktestResultError) throw error;
    throw new BacktestResultError(`${key} is not a readable zip archive`, { cause: error });
  }
  const result = files[members.result];
  if (!result) {
    throw new BacktestResultError(
      `${key} holds no ${members.result}, the member freqtrade reads (found: ${names.join(', ') || 'nothing'})`,
    );
  }
  const parameters = files[members.parameters(strategy)];
  return {
    result: parseJson(`${key}:${members.result}`, result),
    ...(parameters ? { parameters: parseJson(`${key}:${members.parameters(strategy)}`, parameters) } : {}),
  };
};
