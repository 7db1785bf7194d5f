import { ConfigError, loadConfig } from './config.js';
import { startJarvis } from './server/jarvis.js';

/** `npm start`: the Jarvis server, configured from the environment and --port/--host. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (err) {
    console.error(`jarvis: ${err instanceof ConfigError || err instanceof TypeError ? err.message : String(err)}`);
    process.exit(2);
  }
  // SIGHUP's default is to exit: while starting, it is ignored; once started, it reopens the log.
  const ignore = () => {};
  process.on('SIGHUP', ignore);
  let jarvis;
  try {
    jarvis = await startJarvis(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`jarvis: ${err.message}`);
    process.exit(2);
  }
  for (const warning of jarvis.ctx.warnings) console.warn(`jarvis: warning: ${warning}`);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130); // a second Ctrl-C means now
    jarvis.ctx.log.info('signal_received', { signal });
    // Exit within 3 s whatever happens: shutdown waits at most shutdownGraceMs for streams.
    setTimeout(() => {
      jarvis.ctx.log.flushSync();
      process.exit(1);
    }, 2900).unref();
    jarvis.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.off('SIGHUP', ignore);
  // logrotate (without copytruncate) moves or removes the file, then sends SIGHUP: the log is
  // opened again by its name. Nothing else changes; streams go on.
  process.on('SIGHUP', () => {
    jarvis.ctx.log.info('signal_received', { signal: 'SIGHUP' });
    void jarvis.ctx.log.reopen();
  });
  // Printed once every signal has its handler: whoever waits for this line may signal at once.
  console.log(`Jarvis is listening on ${jarvis.url} (backend: ${jarvis.ctx.backend.name}, model: ${jarvis.ctx.defaultModel ?? 'none yet'}, log: ${config.logFile})`);
}

main().catch((err: unknown) => {
  console.error('jarvis: failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
