import { BOT_API_PORT } from '@tradai/lambda-kit';

/*
 * The few calls of freqtrade's REST API a deploy makes, pinned to freqtrade@c9ae5e1e
 * rpc/api_server/api_v1.py (routes) and api_schemas.py (shapes):
 * - GET /api/v1/status: list[OpenTradeSchema], the open trades (`trade_id`, `pair`, `open_date`...);
 * - GET /api/v1/trade/{tradeid}: one trade, open or closed; 404 "Trade not found.";
 * Both need the API login (HTTP basic, api_auth.py `http_basic_or_jwt_token`).
 */

export interface OpenTrade {
  trade_id: number;
  pair: string;
  open_date: string;
}

export interface BotLogin {
  username: string;
  password: string;
}

/** The bot did not answer (refused, timed out, 5xx): not a verdict on its trades. */
export class BotUnreachable extends Error {
  override name = 'BotUnreachable';
}

/** The API refused our login (401/403): the stage's API secret and the bot disagree. */
export class BotLoginRefused extends Error {
  override name = 'BotLoginRefused';
}

const call = async (ip: string, path: string, login: BotLogin, timeoutMs: number): Promise<Response> => {
  const authorization = `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`;
  let response: Response;
  try {
    response = await fetch(`http://${ip}:${BOT_API_PORT}/api/v1/${path}`, {
      headers: { authorization },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new BotUnreachable(`${ip}: ${(error as Error).message}`, { cause: error });
  }
  if (response.status === 401 || response.status === 403)
    throw new BotLoginRefused(`${ip}: the bot's API refused the login (${response.status})`);
  if (response.status >= 500) throw new BotUnreachable(`${ip}: /api/v1/${path} answered ${response.status}`);
  return response;
};

/** The bot's open trades (only the fields a deploy compares). */
export const openTrades = async (ip: string, login: BotLogin, timeoutMs: number): Promise<OpenTrade[]> => {
  const response = await call(ip, 'status', login, timeoutMs);
  if (!response.ok) throw new BotUnreachable(`${ip}: /api/v1/status answered ${response.status}`);
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!Array.isArray(body)) throw new BotUnreachable(`${ip}: /api/v1/status did not answer a list of trades`);
  return body
    .filter((trade): trade is OpenTrade => typeof trade?.trade_id === 'number')
    .map(({ trade_id, pair, open_date }) => ({ trade_id, pair: String(pair), open_date: String(open_date) }));
};

/** Whether the bot knows trade `id` at all (open or closed since): 404 is "no". */
export const knowsTrade = async (
  ip: string,
  id: number,
  login: BotLogin,
  timeoutMs: number,
): Promise<boolean> => {
  const response = await call(ip, `trade/${id}`, login, timeoutMs);
  if (response.status === 404) return false;
  if (!response.ok) throw new BotUnreachable(`${ip}: /api/v1/trade/${id} answered ${response.status}`);
  return true;
};
