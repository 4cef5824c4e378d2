// One-shot set-up of one MongoDB server of docker-compose.yml, run by mongosh in the mongo image:
//   mongosh --nodb --quiet --file mongodb-init.js
// It initiates the server's single-member replica set and creates (or updates) one user per
// service, with readWrite on the service's own database and nothing else. Safe to run at every
// `docker compose up`: an initiated set is left alone, and an existing user gets the password and
// roles its secret file names now (that is how a password is rotated).
//
// Settings (environment):
//   MONGODB_ADDRESS            host:port of the server, as the replica-set member is named
//   MONGODB_REPLICA_SET        the name mongod runs with (--replSet)
//   MONGODB_ROOT_USERNAME      the root user the image created at the first start
//   MONGODB_ROOT_PASSWORD_FILE its password (a Compose secret)
//   SERVICE_DATABASE           the one database the services' users may read and write
//   SERVICE_MONGODB_URL_FILES  comma-separated secret files, each a service's mongodb:// URL; the
//                              user and password in it are the ones created here
const fs = require('fs');

const primaryWaitMs = 60_000;
const notYetInitialized = 94;

function setting(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** A secret file's content without its trailing newline, as the project's services read it. */
function readSecret(path) {
  return fs.readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

function connectAsRoot(address) {
  const admin = new Mongo(`mongodb://${address}/?directConnection=true`).getDB('admin');
  admin.auth(setting('MONGODB_ROOT_USERNAME'), readSecret(setting('MONGODB_ROOT_PASSWORD_FILE')));
  return admin;
}

/** The command's answer; mongosh throws on a failed command, so a failure comes back as { ok: 0, code }. */
function command(admin, document) {
  try {
    return admin.runCommand(document);
  } catch (error) {
    return { ok: 0, code: error.code, errmsg: error.message };
  }
}

function initiateReplicaSet(admin, address, name) {
  const status = command(admin, { replSetGetStatus: 1 });
  if (status.ok === 1) {
    print(`replica set ${status.set} already initiated`);
    return;
  }
  if (status.code !== notYetInitialized) throw new Error(`replSetGetStatus failed: ${status.errmsg}`);
  const answer = command(admin, { replSetInitiate: { _id: name, members: [{ _id: 0, host: address }] } });
  if (answer.ok !== 1) throw new Error(`replSetInitiate failed: ${answer.errmsg}`);
  print(`replica set ${name} initiated with member ${address}`);
}

function waitForPrimary(admin) {
  const deadline = Date.now() + primaryWaitMs;
  while (!command(admin, { hello: 1 }).isWritablePrimary) {
    if (Date.now() > deadline) throw new Error(`no primary after ${primaryWaitMs} ms`);
    sleep(500);
  }
}

/** The user a service's URL names; the URL must point at the service database and authenticate there. */
function serviceUserOf(url, database) {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const named = parsed.pathname.replace(/^\//, '');
  const authSource = parsed.searchParams.get('authSource') ?? named;
  if (!user || !password) throw new Error('a service URL carries no user and password');
  if (named !== database || authSource !== database) throw new Error(`the URL of ${user} names database ${named} (authSource ${authSource}), not ${database}`);
  return { user, password };
}

function ensureServiceUser(admin, database, { user, password }) {
  const target = admin.getSiblingDB(database);
  const roles = [{ role: 'readWrite', db: database }];
  if (target.getUser(user)) {
    target.updateUser(user, { pwd: password, roles });
    print(`user ${user} updated: readWrite on ${database}`);
  } else {
    target.createUser({ user, pwd: password, roles });
    print(`user ${user} created: readWrite on ${database}`);
  }
}

function main() {
  const address = setting('MONGODB_ADDRESS');
  const database = setting('SERVICE_DATABASE');
  const admin = connectAsRoot(address);
  initiateReplicaSet(admin, address, setting('MONGODB_REPLICA_SET'));
  waitForPrimary(admin);
  for (const file of setting('SERVICE_MONGODB_URL_FILES').split(',')) ensureServiceUser(admin, database, serviceUserOf(readSecret(file.trim()), database));
}

main();
