/** The `mediaforge` command line. Thin: each command parses its flags and calls a library function. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { planCommand, probeCommand, runCommand } from './commands.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { EXIT_INVALID, type Io } from './output.js';

/** The package's version: package.json is two folders up from dist/cli/, one from the bundle. */
function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'mediaforge' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

export async function main(argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  let code = 0;
  const program = new Command('mediaforge')
    .description('Self-hosted media transcoding: declarative FFmpeg jobs, locally or on a cluster.')
    .version(version(), '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const common = (c: Command) =>
    c
      .option('--media-root <dir>', 'folder relative paths resolve under (default: current directory)')
      .option('--config <file>', 'YAML settings file')
      .option('--json', 'machine-readable output');

  common(
    program.command('run <spec>').description('validate, probe, plan and run a JobSpec (JSON file)'),
  ).action(async (spec, o) => {
    code = await runCommand(spec, o, io);
  });
  common(
    program
      .command('plan <spec>')
      .description('show the plan of a JobSpec without running it: stages, tasks, FFmpeg argv, estimates'),
  ).action(async (spec, o) => {
    code = await planCommand(spec, o, io);
  });
  program
    .command('probe <file>')
    .description('show what ffprobe reads in a media file')
    .option('--json', 'the MediaInfo as JSON')
    .option('--config <file>', 'YAML settings file')
    .action(async (file, o) => {
      code = await probeCommand(file, o, io);
    });
  program
    .command('doctor')
    .description('show the FFmpeg in use, where it comes from, and which encoders pass a test encode')
    .option('--json', 'as JSON')
    .option('--config <file>', 'YAML settings file')
    .action(async (o) => {
      code = await doctorCommand(o, io);
    });
  program
    .command('demo')
    .description('generate a test clip and run an example job on it (what npm start does)')
    .option('--dir <dir>', 'where to put it', 'data')
    .option('--json', 'progress and result as JSON lines')
    .action(async (o) => {
      code = await demoCommand(o, io);
    });

  const server = (c: Command) =>
    c
      .option('--data <dir>', 'data folder: embedded database, admin key, default media root', undefined)
      .option('--port <port>', 'HTTP port (0 picks a free one)')
      .option('--host <host>', 'address to listen on')
      .option('--media-root <dir>', 'folder job paths resolve under (default: DATA/media)')
      .option('--config <file>', 'YAML settings file');
  server(
    program.command('up').description('orchestrator + one local worker + embedded database: the quick start'),
  ).action(async (o) => {
    const { upCommand } = await import('./up.js');
    code = await upCommand(o, io, true);
  });
  server(
    program
      .command('orchestrator')
      .description('the control plane alone (DATABASE_URL=postgres://… for a PostgreSQL server)'),
  ).action(async (o) => {
    const { upCommand } = await import('./up.js');
    code = await upCommand(o, io, false);
  });

  // The API client commands; their module loads only when one of them runs.
  const client = (c: Command) =>
    c
      .option('--server <url>', 'orchestrator URL (env MEDIAFORGE_URL; default http://127.0.0.1:8080)')
      .option('--key <key>', 'API key (env MEDIAFORGE_KEY)')
      .option('--json', 'machine-readable output');
  const commands = () => import('./client-commands.js');
  client(
    program
      .command('submit <spec>')
      .description('submit a JobSpec (JSON file) to the orchestrator; prints the job id')
      .option('--wait', 'follow the job with a progress bar until it ends; exit 1 if it fails')
      .option('--idempotency-key <key>', 'the same key and body give back the same job')
      .option('--priority <n>', 'higher runs first, -100 to 100 (default 0)'),
  ).action(async (spec, o) => {
    code = await (await commands()).submitCommand(spec, o, io);
  });
  client(
    program
      .command('jobs')
      .description('list jobs, newest first')
      .option('--status <status>', 'pending, processing, completed, failed or cancelled')
      .option('--limit <n>', 'how many, 1 to 100 (default 20)'),
  ).action(async (o) => {
    code = await (await commands()).jobsCommand(o, io);
  });
  client(
    program.command('watch <job>').description("follow a job's progress until it ends; exit 1 if it fails"),
  ).action(async (job, o) => {
    code = await (await commands()).watchCommand(job, o, io);
  });
  client(program.command('cancel <job>').description('cancel a pending or running job')).action(
    async (job, o) => {
      code = await (await commands()).cancelCommand(job, o, io);
    },
  );
  client(
    program
      .command('retry <job>')
      .description('run a failed or cancelled job again')
      .option('--wait', 'follow it until it ends'),
  ).action(async (job, o) => {
    code = await (await commands()).retryCommand(job, o, io);
  });

  // Workers: the process, and the admin's commands about them.
  const workers = () => import('./worker-commands.js');
  program
    .command('worker')
    .description('run tasks for an orchestrator on this machine')
    .option('--orchestrator <url>', 'the orchestrator (env MEDIAFORGE_ORCHESTRATOR_URL)')
    .option('--token <token>', 'enrolment token, needed on the first start (env MEDIAFORGE_ENROLMENT_TOKEN)')
    .option('--port <port>', 'port of the worker API (default 8081; 0 picks a free one)')
    .option('--host <host>', 'address to listen on (default 0.0.0.0)')
    .option('--name <name>', 'name in the registry (default: host name)')
    .option(
      '--media-root <dir>',
      "the orchestrator's storage as mounted here (with path_mappings); without it, tasks come as copies over HTTP",
    )
    .option(
      '--data <dir>',
      "the worker's identity, report journal, probe result and copies (default worker-data)",
    )
    .option('--config <file>', 'YAML settings file (worker.yaml)')
    .action(async (o) => {
      code = await (await workers()).workerCommand(o, io, version());
    });
  const token = program.command('token').description('enrolment tokens');
  client(
    token
      .command('create')
      .description('create an enrolment token for new workers (admins)')
      .option('--worker', 'a worker enrolment token')
      .option('--name <name>', 'a label for it')
      .option('--ttl <seconds>', 'lifetime (default: until revoked)'),
  ).action(async (o) => {
    code = await (await workers()).tokenCreateCommand(o, io);
  });
  const workersCmd = client(program.command('workers').description('list the workers (admins)')).action(
    async (o) => {
      code = await (await workers()).workersCommand(o, io);
    },
  );
  for (const action of ['drain', 'undrain', 'remove'] as const)
    client(
      workersCmd
        .command(`${action} <id>`)
        .description(
          action === 'drain'
            ? 'finish what it runs, take nothing new'
            : action === 'undrain'
              ? 'take work again'
              : 'forget it; its tasks are queued again',
        ),
    ).action(async (id, o) => {
      code = await (await workers()).workerChangeCommand(action, id, o, io);
    });
  client(
    workersCmd
      .command('probe <id>')
      .description('measure its encoders again (a new GPU, a driver fixed) and show what passed'),
  ).action(async (id, o) => {
    code = await (await workers()).workerProbeCommand(id, o, io);
  });

  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_INVALID;
    throw e;
  }
  return code;
}

function defaultIo(): Io {
  return {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    isTTY: !!process.stdout.isTTY,
  };
}
