import type Database from "libsql";

export type Param = string | number | null;

/** Prepared statements by SQL text, each prepared once; refused once closed. */
export class PreparedStatements {
  readonly #db: Database.Database;
  readonly #closedError: () => Error;
  readonly #translate: (error: unknown) => unknown;
  readonly #cache = new Map<string, Database.Statement>();
  #closed = false;

  /** `translate`: what a failed read throws instead of SQLite's error (a storage failure as the store's own error). */
  constructor(db: Database.Database, closedError: () => Error, translate: (error: unknown) => unknown = (e) => e) {
    this.#db = db;
    this.#closedError = closedError;
    this.#translate = translate;
  }

  get(sql: string): Database.Statement {
    if (this.#closed) throw this.#closedError();
    let statement = this.#cache.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#cache.set(sql, statement);
    }
    return statement;
  }

  /** Every row of a query. */
  all<T>(sql: string, params: readonly Param[]): T[] {
    // libsql reads a lone argument as named parameters, and a lone null
    // fails: always pass one positional array.
    try {
      return this.get(sql).all([...params]) as T[];
    } catch (error) {
      throw this.#translate(error);
    }
  }

  close(): void {
    this.#closed = true;
    this.#cache.clear();
  }
}
