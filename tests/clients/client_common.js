'use strict';
// Shared by the tests/clients scripts: command line, loading ali-ons from the tools folder, and a
// quiet logger for ali-ons that keeps its warnings and errors for the failure report.

const path = require('node:path');

// --namesrv <binary> --broker <binary> [--tools <dir>]; tools defaults to $DLEDGER_TOOLS_DIR or
// <repository>/build/tools (where scripts/install-tools.sh installs ali-ons).
function parseArgs(argv, script) {
  const args = { tools: process.env.DLEDGER_TOOLS_DIR ||
    path.join(__dirname, '..', '..', 'build', 'tools') };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    args[key] = argv[i + 1];
  }
  if (!args.namesrv || !args.broker) {
    throw new Error(`usage: ${script} --namesrv <binary> --broker <binary> [--tools <dir>]`);
  }
  return args;
}

// ali-ons missing is an error naming the command that installs it (never a silent pass).
function loadAliOns(toolsDir) {
  const modulePath = path.join(toolsDir, 'node_modules', 'ali-ons');
  try {
    return require(modulePath);
  } catch (err) {
    throw new Error(`ali-ons not found at ${modulePath} (${err.code || err.message}): ` +
      'run scripts/install-tools.sh (it installs ali-ons into build/tools)');
  }
}

// ali-ons logs warnings and errors through this; a test failure prints the last ones.
const clientLog = [];
const logger = {
  info() {},
  debug() {},
  warn(...args) { clientLog.push(`WARN ${args.map(String).join(' ')}`); },
  error(...args) { clientLog.push(`ERROR ${args.map(a => (a && a.stack) || String(a)).join(' ')}`); },
};

// Runs `scenario()` against a started-or-not `cluster`, then `cleanup()`, stops every process and
// exits: status 0 printing "<passed> passed, 0 failed" when the scenario resolved; status 1 when it
// threw, printing the failure, the clients' last log lines and the processes' logs, and keeping
// the test directory for a post-mortem.
async function runAndExit(cluster, passed, scenario, cleanup = async () => {}) {
  let ok = false;
  try {
    await scenario();
    ok = true;
  } catch (err) {
    console.error(`FAIL ${err.stack || err}`);
    console.error(`--- client log (last 40) ---\n${clientLog.slice(-40).join('\n')}`);
    console.error(cluster.logs());
  } finally {
    try {
      await cleanup();
    } catch (err) {
      console.error(`cleanup: ${err.message}`);
    }
    await cluster.stopAll();
    if (ok) cluster.removeDir();
    else console.error(`test directory kept: ${cluster.dir}`);
  }
  console.log(ok ? `${passed} passed, 0 failed` : 'FAILED');
  process.exit(ok ? 0 : 1);
}

module.exports = { clientLog, loadAliOns, logger, parseArgs, runAndExit };
