import type Database from "libsql";

export type Param = string | number | null;

/** Prepared statements by SQL text, each prepared once; refused once closed. */
export class PreparedStatements {
  readonly #db: Database.Database;
  readonly #closedError: () => Error;
  readonly #cache = new Map<string, Database.Statement>();
  #closed = false;

  constructor(db: Database.Database, closedError: () => Error) {
    this.#db = db;
    this.#closedError = closedError;
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
    return this.get(sql).all([...params]) as T[];
  }

  close(): void {
    this.#closed = true;
    this.#cache.clear();
  }
}
