// The typed client both plugins use for HausKI's side API. Every route it
// calls is listed in ROUTES, which the integration test checks against the
// running daemon's /openapi.json: a renamed route or field fails there, not
// in an editor.

export type Severity = "info" | "warning";

export interface PrDraft {
  title: string;
  body: string;
}

export interface Hint {
  start_line: number;
  end_line: number;
  severity: Severity;
  message: string;
  source: "rule" | "llm";
}

export interface HintsRequest {
  path: string;
  text: string;
  language?: string;
  llm?: boolean;
}

export interface EditSummary {
  workspace: string;
  file: string;
  chars_changed: number;
  lines_changed: number;
  excerpt?: string;
  speak?: boolean;
}

export interface Commentary {
  comment: string | null;
  spoken: boolean;
  pending_chars: number;
  pending_lines: number;
  threshold_chars: number;
  threshold_lines: number;
}

/** A JSON Canvas 1.0 node (text, file, link or group). */
export interface CanvasNode {
  id: string;
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  text?: string;
  color?: string;
  [key: string]: unknown;
}

export interface CanvasEdge {
  id: string;
  fromNode: string;
  toNode: string;
  fromSide?: string;
  toSide?: string;
  label?: string;
  color?: string;
  [key: string]: unknown;
}

export interface Canvas {
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

export interface Answer {
  text: string;
  /** The notes the answer drew on, as paths in the vault. */
  sources: string[];
}

/** Every route the plugins call, with the request fields they send. */
export const ROUTES = {
  prDraft: { method: "post", path: "/code/pr/draft", fields: ["diff"] },
  hints: { method: "post", path: "/code/hints", fields: ["path", "text", "language", "llm"] },
  commentary: {
    method: "post",
    path: "/code/commentary",
    fields: ["workspace", "file", "chars_changed", "lines_changed", "excerpt", "speak"],
  },
  canvasSuggest: { method: "post", path: "/obsidian/canvas/suggest", fields: ["nodes", "edges", "max_suggestions"] },
  chat: { method: "post", path: "/v1/chat/completions", fields: ["model", "messages", "max_tokens", "retrieval"] },
} as const;

/** The daemon did not answer at all: not running, or another address. */
export class DaemonDown extends Error {
  constructor(readonly url: string, cause: unknown) {
    super(
      `HausKI does not answer at ${url} (${String((cause as Error)?.message ?? cause)}); ` +
        "start it with `hauski serve` or set the daemon URL in the settings",
    );
    this.name = "DaemonDown";
  }
}

/** The daemon refused the token (401). */
export class BadToken extends Error {
  constructor(readonly url: string, given: boolean) {
    super(
      given
        ? `HausKI at ${url} refused the token; copy the one \`hauski serve --token\` was started with into the settings`
        : `HausKI at ${url} needs a token; set the one \`hauski serve --token\` was started with in the settings`,
    );
    this.name = "BadToken";
  }
}

/** Any other refusal, with the daemon's own message (it names the fix). */
export class ApiFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(`HausKI answered ${status}: ${message}`);
    this.name = "ApiFailure";
  }
}

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  baseUrl: string;
  token?: string;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: Fetch;
  timeoutMs?: number;
}

export class HausKiClient {
  private readonly base: string;
  private readonly fetch: Fetch;

  constructor(private readonly options: ClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, "");
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const url = `${this.base}${path}`;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
      });
    } catch (cause) {
      throw new DaemonDown(this.base, cause);
    }
    if (response.status === 401) throw new BadToken(this.base, Boolean(this.options.token));
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = JSON.parse(text)?.error?.message ?? text;
      } catch {
        // not JSON: the text as it came
      }
      throw new ApiFailure(response.status, message);
    }
    return JSON.parse(text) as T;
  }

  draftPr(diff: string): Promise<PrDraft> {
    return this.post(ROUTES.prDraft.path, { diff });
  }

  async hints(request: HintsRequest): Promise<Hint[]> {
    const answer = await this.post<{ hints: Hint[] }>(ROUTES.hints.path, request);
    return answer.hints;
  }

  commentary(edit: EditSummary): Promise<Commentary> {
    return this.post(ROUTES.commentary.path, edit);
  }

  canvasSuggest(canvas: Canvas, maxSuggestions = 3): Promise<Canvas> {
    return this.post(ROUTES.canvasSuggest.path, { ...canvas, max_suggestions: maxSuggestions });
  }

  /** A question answered from the owner's indexed notes. */
  async ask(question: string): Promise<Answer> {
    const answer = await this.post<{
      choices: { message: { content: string } }[];
      hauski?: { sources?: string[] };
    }>(ROUTES.chat.path, {
      model: "hauski",
      messages: [{ role: "user", content: question }],
      max_tokens: 160,
      retrieval: { notes: true },
    });
    return {
      text: answer.choices[0]?.message?.content ?? "",
      sources: answer.hauski?.sources ?? [],
    };
  }
}
