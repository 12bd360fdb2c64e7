// @ts-check
/** What went wrong with a call, from the gateway's problem+json answer when it gave one. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0: the gateway could not be reached)
   * @param {string} code the problem's stable code, e.g. AUTH.UNAUTHORIZED
   * @param {string} message words for a person
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * The gateway's HTTP API with one API key. The key goes in the Authorization
 * header only, never in a URL, so it appears in no log or browser history.
 */
export class Api {
  /** @param {string} key */
  constructor(key) {
    this.key = key;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {{json?: unknown, body?: BodyInit, contentType?: string, accept?: string, headers?: Record<string, string>, signal?: AbortSignal}} [options]
   * @returns {Promise<Response>} a 2xx response; anything else is thrown as an ApiError
   */
  async raw(method, path, options = {}) {
    /** @type {Record<string, string>} */
    const headers = { ...options.headers, authorization: `Bearer ${this.key}` };
    if (options.accept) headers.accept = options.accept;
    let body = options.body;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.contentType) headers["content-type"] = options.contentType;
    let response;
    try {
      response = await fetch(path, { method, headers, body, signal: options.signal, cache: "no-store" });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(0, "NETWORK", "The gateway could not be reached. Is it running?");
    }
    if (response.ok) return response;
    throw await toApiError(response);
  }

  /**
   * A JSON call; 204 gives undefined.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [json]
   * @returns {Promise<any>}
   */
  async call(method, path, json) {
    const response = await this.raw(method, path, json === undefined ? {} : { json });
    return response.status === 204 ? undefined : response.json();
  }
}

/** @param {Response} response */
async function toApiError(response) {
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      const problem = await response.json();
      const fields = Array.isArray(problem.errors)
        ? problem.errors.map((/** @type {{field: string, message: string}} */ e) => `${e.field}: ${e.message}`)
        : [];
      const detail = [problem.detail ?? problem.title ?? `HTTP ${response.status}`, ...fields].join("; ");
      return new ApiError(response.status, String(problem.code ?? `HTTP.${response.status}`), detail);
    } catch {
      // not the JSON it claimed to be: fall through to the status line
    }
  }
  return new ApiError(response.status, `HTTP.${response.status}`, `The gateway answered ${response.status}.`);
}
