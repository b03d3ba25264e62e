// Test harness only (make interop): the official Bluesky development network on loopback.
//
// Starts @atproto/dev-env's TestNetwork (a PLC directory, a PDS and the AppView, with the
// PostgreSQL in DB_POSTGRES_URL and the Redis at REDIS_HOST), with the PDS's rate limits on,
// creates the police account and two residents, and prints one JSON line on stdout:
//   {"pds": url, "appview": url, "accounts": {"police": {handle, did, password, app_password}, ...}}
// then serves until stdin closes or SIGTERM, and shuts everything down.
'use strict'

const { TestNetwork } = require('@atproto/dev-env')

const ACCOUNTS = {
  police: 'westmerepolice.test',
  alice: 'alice-w.test',
  carol: 'carol.test',
}

async function main() {
  const network = await TestNetwork.create({
    dbPostgresSchema: "interop",
    // The PDS counts createSession per identifier (30 / 5 min, 300 / day) as bsky.social does.
    pds: { rateLimitsEnabled: true },
  })
  const accounts = {}
  for (const [name, handle] of Object.entries(ACCOUNTS)) {
    const password = `${name}-password`
    const agent = network.pds.getClient()
    await agent.createAccount({ handle, email: `${name}@westmere.example`, password })
    const appPassword = await agent.com.atproto.server.createAppPassword({ name: 'beatdesk' })
    accounts[name] = {
      handle,
      did: agent.session.did,
      password,
      app_password: appPassword.data.password,
    }
  }
  await network.processAll()
  process.stdout.write(
    JSON.stringify({ pds: network.pds.url, appview: network.bsky.url, accounts }) + '\n',
  )

  let closing = false
  const close = async () => {
    if (closing) return
    closing = true
    try {
      await network.close()
    } finally {
      process.exit(0)
    }
  }
  process.on('SIGTERM', close)
  process.on('SIGINT', close)
  process.stdin.on('end', close)
  process.stdin.resume()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
