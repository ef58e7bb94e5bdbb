import type { ParseArgsConfig } from 'node:util';
import { nodeUtil } from '../builtins.ts';

/**
 * Keydesk's command tree and argument parsing, on Node's own util.parseArgs. The API is the part of commander's that
 * Keydesk's commands use (command, argument, option, requiredOption, description, addHelpText, action,
 * optsWithGlobals), so a command reads the same; commander itself loaded child_process, net and the process report
 * machinery on every start, about a tenth of `keydesk list`'s time.
 *
 * Global options (the root's) are accepted anywhere on the line. Errors are ParseError with commander's wording
 * ("error: unknown option '--x'"), written to stderr with the command's help after it; `-h`/`--help` and `--version`
 * end the run with ParseError codes 'help' and 'version'.
 */

export type ActionFn = (...args: never[]) => void | Promise<void>;

export class ParseError extends Error {
  /** usage: bad arguments; help and version: the run ended after printing them (exit 0). */
  readonly code: 'usage' | 'help' | 'version';
  constructor(code: ParseError['code'], message: string) {
    super(message);
    this.name = 'ParseError';
    this.code = code;
  }
}

interface OptionDef {
  flags: string;
  /** The long name without dashes ("secrets-from"; "browser" for --no-browser). */
  long: string;
  /** The key in opts(): camelCase ("secretsFrom"). */
  key: string;
  description: string;
  takesValue: boolean;
  negate: boolean;
  required: boolean;
  /** A repeatable option folds its values with this (commander's custom processing); otherwise the last value wins. */
  fold: ((value: string, previous: unknown) => unknown) | undefined;
  defaultValue: unknown;
}

interface ArgDef {
  name: string;
  required: boolean;
  description: string;
}

export interface Output {
  writeOut(s: string): void;
  writeErr(s: string): void;
}

const HELP_WIDTH = 80;

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export class Command {
  readonly #name: string;
  #description = '';
  #helpAfter = '';
  readonly #options: OptionDef[] = [];
  readonly #args: ArgDef[] = [];
  #action: ActionFn | null = null;
  #parent: Command | null = null;
  #values: Record<string, unknown> = {};
  #version: string | null = null;
  #output: Output = { writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) };
  readonly commands: Command[] = [];

  constructor(name = '') {
    this.#name = name;
  }

  name(): string {
    return this.#name;
  }

  command(name: string): Command {
    const sub = new Command(name);
    sub.#parent = this;
    this.commands.push(sub);
    return sub;
  }

  description(text: string): this {
    this.#description = text;
    return this;
  }

  addHelpText(position: 'after', text: string): this {
    if (position === 'after') this.#helpAfter += text;
    return this;
  }

  argument(spec: string, description = ''): this {
    const m = /^([<[])([\w.-]+)[>\]]$/.exec(spec);
    if (!m) throw new Error(`Bad argument spec ${spec}`);
    this.#args.push({ name: m[2]!, required: m[1] === '<', description });
    return this;
  }

  option(flags: string, description: string, foldOrDefault?: unknown, defaultValue?: unknown): this {
    return this.#addOption(flags, description, false, foldOrDefault, defaultValue);
  }

  requiredOption(flags: string, description: string, foldOrDefault?: unknown, defaultValue?: unknown): this {
    return this.#addOption(flags, description, true, foldOrDefault, defaultValue);
  }

  #addOption(flags: string, description: string, required: boolean, foldOrDefault: unknown, defaultValue: unknown): this {
    const m = /^--(no-)?([a-z][a-z0-9-]*)(?: <([\w=.-]+)>)?$/.exec(flags);
    if (!m) throw new Error(`Bad option flags ${flags}`);
    const fold = typeof foldOrDefault === 'function' ? (foldOrDefault as OptionDef['fold']) : undefined;
    const negate = m[1] !== undefined;
    this.#options.push({
      flags,
      long: m[2]!,
      key: camel(m[2]!),
      description,
      takesValue: m[3] !== undefined,
      negate,
      required,
      fold,
      defaultValue: fold ? defaultValue : negate ? true : foldOrDefault
    });
    return this;
  }

  action(fn: ActionFn): this {
    this.#action = fn;
    return this;
  }

  /** Root only: `--version` prints this. */
  version(version: string): this {
    this.#version = version;
    return this;
  }

  /** Root only: where help, version and errors are written. */
  configureOutput(output: Output): this {
    this.#output = output;
    return this;
  }

  opts<T>(): T {
    return { ...this.#values } as T;
  }

  /** This command's options merged over its ancestors' (the global options). */
  optsWithGlobals<T>(): T {
    return Object.assign({}, ...this.#chain().map((c) => c.#values)) as T;
  }

  /** The root, …, this command. */
  #chain(): Command[] {
    return this.#parent ? [...this.#parent.#chain(), this] : [this];
  }

  #root(): Command {
    return this.#chain()[0]!;
  }

  #path(): string {
    return this.#chain()
      .map((c) => c.#name)
      .join(' ');
  }

  /** Parses `argv` (the words after the program name) and runs the command it names. */
  async parseAsync(argv: readonly string[]): Promise<void> {
    const globals = this.#options;
    // Walk down to the command the positional words name; options before it may only be global ones.
    let cmd = this.#root();
    const rest: string[] = [];
    let i = 0;
    let wantsHelp = false;
    for (; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '--') break;
      if (a === '-h' || a === '--help') {
        wantsHelp = true;
        continue;
      }
      if (a.startsWith('-')) {
        rest.push(a);
        const g = globals.find((o) => a === `--${o.long}` && o.takesValue);
        if (g && i + 1 < argv.length) rest.push(argv[++i]!);
        continue;
      }
      if (cmd === this && a === 'help' && this.commands.length) {
        const target = this.#find(argv[i + 1]);
        this.#printHelp(target ?? this);
        throw new ParseError('help', '(outputHelp)');
      }
      const sub = cmd.commands.length ? cmd.#find(a) : undefined;
      if (sub) {
        cmd = sub;
        continue;
      }
      if (cmd.commands.length) this.#fail(cmd, `error: unknown command '${a}'`);
      break;
    }
    rest.push(...argv.slice(i));
    if (wantsHelp) {
      this.#printHelp(cmd);
      throw new ParseError('help', '(outputHelp)');
    }
    const chain = cmd.#chain();
    const defs = chain.flatMap((c) => c.#options);
    const config: NonNullable<ParseArgsConfig['options']> = {};
    for (const o of defs) config[o.long] = { type: o.takesValue ? 'string' : 'boolean', ...(o.fold ? { multiple: true } : {}) };
    if (this.#version !== null) config.version = { type: 'boolean' };
    let parsed: ReturnType<ReturnType<typeof nodeUtil>['parseArgs']>;
    try {
      parsed = nodeUtil().parseArgs({ args: rest, options: config, strict: true, allowPositionals: true, allowNegative: true });
    } catch (e) {
      this.#fail(cmd, parseArgsMessage(e, defs));
    }
    if (parsed.values.version === true && this.#version !== null) {
      this.#output.writeOut(`${this.#version}\n`);
      throw new ParseError('version', this.#version);
    }
    if (cmd.commands.length && !cmd.#action) {
      // A group such as `audit` without its subcommand: say what it has.
      this.#printHelp(cmd, true);
      throw new ParseError('usage', `error: '${cmd.#path()}' needs a command`);
    }
    for (const c of chain) {
      const values: Record<string, unknown> = {};
      for (const o of c.#options) {
        const raw = parsed.values[o.long];
        if (raw === undefined) {
          if (o.required) this.#fail(cmd, `error: required option '${o.flags}' not specified`);
          if (o.defaultValue !== undefined) values[o.key] = o.defaultValue;
          continue;
        }
        if (o.negate && o.takesValue === false) values[o.key] = raw;
        else if (o.fold) values[o.key] = (raw as string[]).reduce<unknown>((prev, v) => o.fold!(v, prev), o.defaultValue);
        else values[o.key] = raw;
      }
      c.#values = values;
    }
    const positionals = parsed.positionals;
    const missing = cmd.#args.slice(positionals.length).find((a) => a.required);
    if (missing) this.#fail(cmd, `error: missing required argument '${missing.name}'`);
    if (positionals.length > cmd.#args.length) {
      this.#fail(
        cmd,
        `error: too many arguments${cmd === this ? '' : ` for '${cmd.#name}'`}. Expected ${cmd.#args.length} argument${cmd.#args.length === 1 ? '' : 's'} but got ${positionals.length}.`
      );
    }
    if (!cmd.#action) return;
    const args = cmd.#args.map((_, n) => positionals[n]);
    await (cmd.#action as (...a: unknown[]) => void | Promise<void>)(...args, cmd.opts(), cmd);
  }

  #find(name: string | undefined): Command | undefined {
    return name === undefined ? undefined : this.commands.find((c) => c.#name === name);
  }

  #fail(cmd: Command, message: string): never {
    const out = this.#root().#output;
    out.writeErr(`${message}\n\n`);
    out.writeErr(cmd.helpText());
    throw new ParseError('usage', message);
  }

  #printHelp(cmd: Command, toStderr = false): void {
    const out = this.#root().#output;
    if (toStderr) out.writeErr(cmd.helpText());
    else out.writeOut(cmd.helpText());
  }

  /** The help a person reads: usage, description, arguments, options and subcommands, wrapped to 80 columns. */
  helpText(): string {
    const usage = [
      this.#path(),
      ...(this.#options.length || this.#parent === null ? ['[options]'] : []),
      ...(this.commands.length ? ['[command]'] : []),
      ...this.#args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`))
    ].join(' ');
    const sections: string[] = [`Usage: ${usage}\n`];
    if (this.#description) sections.push(`${wrap(this.#description, HELP_WIDTH, 0)}\n`);
    const rows = (title: string, items: [string, string][]) => {
      if (items.length === 0) return;
      const width = Math.min(Math.max(...items.map(([t]) => t.length)), 36);
      sections.push(`${title}:\n${items.map(([t, d]) => formatRow(t, d, width)).join('\n')}\n`);
    };
    rows(
      'Arguments',
      this.#args.filter((a) => a.description).map((a) => [a.name, a.description])
    );
    rows('Options', [
      ...this.#options.map((o): [string, string] => [
        o.negate ? `--no-${o.long}` : o.flags,
        `${o.description}${o.fold && Array.isArray(o.defaultValue) ? ' (default: [])' : ''}`
      ]),
      ...(this.#version !== null ? [['--version', 'print the Keydesk version'] as [string, string]] : []),
      ['-h, --help', 'display help for command']
    ]);
    rows('Commands', [
      ...this.commands.map((c): [string, string] => [
        [
          c.#name,
          ...(c.#options.length ? ['[options]'] : []),
          ...(c.commands.length ? ['[command]'] : []),
          ...c.#args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`))
        ].join(' '),
        c.#description
      ]),
      ...(this.#parent === null && this.commands.length ? [['help [command]', 'display help for command'] as [string, string]] : [])
    ]);
    return `${sections.join('\n')}${this.#helpAfter ? `${this.#helpAfter.replace(/^\n?/, '\n')}\n` : ''}`;
  }
}

function formatRow(term: string, description: string, width: number): string {
  const indent = 2 + width + 2;
  const head = `  ${term.padEnd(width)}  `;
  if (term.length > width) return `  ${term}\n${wrap(description, HELP_WIDTH, indent, ' '.repeat(indent))}`;
  return wrap(description, HELP_WIDTH, indent, head);
}

/** Words wrapped to `width`, continuation lines indented by `indent`; `first` prefixes the first line. */
function wrap(text: string, width: number, indent: number, first = ''): string {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = ' '.repeat(indent);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.join('\n');
}

/** util.parseArgs' complaint, in commander's words (scripts and people have read those for years). */
function parseArgsMessage(e: unknown, defs: readonly OptionDef[]): string {
  const code = (e as { code?: string }).code;
  const message = e instanceof Error ? e.message : String(e);
  const name = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? '';
  const def = defs.find((o) => name === `--${o.long}` || name === `--no-${o.long}`);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `error: unknown option '${name}'`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (def?.takesValue) return `error: option '${def.flags}' argument missing`;
    if (def) return `error: option '${def.negate ? `--no-${def.long}` : def.flags}' takes no value`;
  }
  return `error: ${message.replace(/\.$/, '')}`;
}
