import { describe, expect, it } from 'vitest';
import { Command, ParseError } from './program.ts';

/** A small program shaped like keydesk's: global options, a leaf with every kind of option, a group with subcommands. */
function program() {
  const out = { stdout: '', stderr: '' };
  const calls: unknown[][] = [];
  const root = new Command('kd')
    .description('a test program')
    .option('--vault <path>', 'the vault')
    .option('--json', 'json')
    .version('9.9.9')
    .configureOutput({ writeOut: (s) => void (out.stdout += s), writeErr: (s) => void (out.stderr += s) });
  root
    .command('add')
    .description('add one')
    .argument('<name>', 'its name')
    .argument('[note]')
    .requiredOption('--provider <provider>', 'which provider')
    .option('--field <k=v>', 'a field (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--no-browser', 'no browser')
    .option('--dry-run', 'do nothing')
    .action((name: string, note: string | undefined, opts: Record<string, unknown>, cmd: Command) => {
      calls.push([name, note, opts, cmd.optsWithGlobals()]);
    });
  const group = root.command('audit').description('the log');
  group.command('verify').action((opts: unknown) => void calls.push(['verify', opts]));
  const parse = async (...argv: string[]) => {
    try {
      await root.parseAsync(argv);
      return null;
    } catch (e) {
      if (e instanceof ParseError) return e;
      throw e;
    }
  };
  return { out, calls, parse };
}

describe('the CLI parser (util.parseArgs under a commander-shaped API)', () => {
  it('passes arguments, options (camelCased, repeatable, negated) and the global options to the action', async () => {
    const p = program();
    expect(
      await p.parse(
        '--vault',
        '/v.sqlite',
        'add',
        'Alpha',
        '--provider',
        'aws',
        '--field',
        'a=1',
        '--field=b=2=3',
        '--json',
        '--no-browser'
      )
    ).toBeNull();
    expect(p.calls).toEqual([
      [
        'Alpha',
        undefined,
        { provider: 'aws', field: ['a=1', 'b=2=3'], browser: false },
        { vault: '/v.sqlite', json: true, provider: 'aws', field: ['a=1', 'b=2=3'], browser: false }
      ]
    ]);
  });

  it('fills defaults: a negatable flag is true, a repeatable option an empty list, the rest absent', async () => {
    const p = program();
    await p.parse('add', 'B', 'a note', '--provider=gcp');
    expect(p.calls[0]!.slice(0, 3)).toEqual(['B', 'a note', { provider: 'gcp', field: [], browser: true }]);
  });

  it('`--` ends the options: what follows is an argument even when it starts with a dash', async () => {
    const p = program();
    await p.parse('add', '--provider', 'aws', '--', '-weird-name');
    expect(p.calls[0]![0]).toBe('-weird-name');
  });

  it('refuses, in commander’s words and with the command’s help after them, and runs nothing', async () => {
    const cases: [string[], string][] = [
      [['add', 'X', '--provider', 'aws', '--bogus'], "error: unknown option '--bogus'"],
      [['add', 'X', '--provider'], "error: option '--provider <provider>' argument missing"],
      [['add', 'X'], "error: required option '--provider <provider>' not specified"],
      [['add', '--provider', 'aws'], "error: missing required argument 'name'"],
      [['add', 'X', 'note', 'extra', '--provider', 'aws'], "error: too many arguments for 'add'. Expected 2 arguments but got 3."],
      [['add', 'X', '--provider', 'aws', '--dry-run=yes'], "error: option '--dry-run' takes no value"],
      [['nope'], "error: unknown command 'nope'"],
      [['audit', 'nope'], "error: unknown command 'nope'"]
    ];
    for (const [argv, message] of cases) {
      const p = program();
      const e = await p.parse(...argv);
      expect(e, argv.join(' ')).toMatchObject({ code: 'usage', message });
      expect(p.out.stderr).toContain(`${message}\n\nUsage: kd `);
      expect(p.calls).toEqual([]);
    }
  });

  it('a group named without its subcommand shows its commands on stderr and is a usage error', async () => {
    const p = program();
    expect(await p.parse('audit')).toMatchObject({ code: 'usage' });
    expect(p.out.stderr).toMatch(/Usage: kd audit \[command\][\s\S]*Commands:\n {2}verify/);
  });

  it('--help and `help COMMAND` print the help and end the run; --version prints the version', async () => {
    const a = program();
    expect(await a.parse('add', '--help')).toMatchObject({ code: 'help' });
    expect(a.out.stdout).toMatch(/^Usage: kd add \[options\] <name> \[note\]\n\nadd one\n\nArguments:\n {2}name {2}its name\n/);
    expect(a.out.stdout).toContain('  --no-browser           no browser');
    expect(a.out.stdout).toContain('  --field <k=v>          a field (repeatable) (default: [])');
    const b = program();
    expect(await b.parse('help', 'add')).toMatchObject({ code: 'help' });
    expect(b.out.stdout).toBe(a.out.stdout);
    const c = program();
    expect(await c.parse('--help')).toMatchObject({ code: 'help' });
    expect(c.out.stdout).toMatch(/Commands:\n {2}add \[options\] <name> \[note\] +add one\n {2}audit \[command\] +the log\n/);
    const v = program();
    expect(await v.parse('--version')).toMatchObject({ code: 'version' });
    expect(v.out.stdout).toBe('9.9.9\n');
    expect([a, b, c, v].flatMap((x) => x.calls)).toEqual([]);
  });

  it('runs a nested subcommand', async () => {
    const p = program();
    await p.parse('--json', 'audit', 'verify');
    expect(p.calls).toEqual([['verify', {}]]);
  });
});
