// chatd restarts in the middle of a conversation (same data dir and port):
// both pages reconnect on their own, nothing is lost or duplicated, and a
// message typed while the server was down is delivered exactly once.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

test('server restart: reconnect, resume, offline sends delivered exactly once', async ({ browser }) => {
  const alice = await h.signIn(browser, 'Alice');
  const bob = await h.signIn(browser, 'Bob');
  const [a, b] = [alice.page, bob.page];

  await h.startDirectChat(a, bob.phone);
  await h.send(a, 'Before the restart 1');
  await h.openChat(b, 'Alice');
  await h.send(b, 'Before the restart 2');
  await h.send(a, 'Before the restart 3');
  const before = ['Before the restart 1', 'Before the restart 2', 'Before the restart 3'];
  await expect(b.getByTestId('message-body')).toHaveText(before);
  await h.expectTick(a, 'Before the restart 3', 'read');

  await h.stopServer();
  for (const p of [a, b]) {
    await expect(p.getByTestId('connection-status')).toBeVisible();
    await expect(p.getByTestId('connection-status')).toContainText(/Offline|Connecting/);
  }

  // Typed while the server is down: queued, shown as pending.
  await h.send(a, 'Typed while the server was down');
  await expect(h.message(a, 'Typed while the server was down').getByTestId('tick')).toHaveAttribute('data-status', 'pending');
  await h.send(b, 'Bob also typed offline');
  await h.send(a, 'And a second one');
  await expect(a.getByTestId('connection-status')).toContainText('2 messages will be sent when back online');

  await h.startServer();
  await h.expectOnline(a);
  await h.expectOnline(b);
  await expect(a.getByTestId('connection-status')).toBeHidden();

  // Each side has every message exactly once, in the same order.
  const after = [...before, 'Typed while the server was down', 'Bob also typed offline', 'And a second one'];
  const sortedAfter = [...after].sort();
  await expect(async () => {
    expect((await h.bodies(a)).sort()).toEqual(sortedAfter);
    expect((await h.bodies(b)).sort()).toEqual(sortedAfter);
  }).toPass({ timeout: 20_000 });
  const orderA = await h.bodies(a);
  await expect(b.getByTestId('message-body')).toHaveText(orderA);
  await expect(a.getByTestId('message').and(a.locator('[data-pending="true"]'))).toHaveCount(0);
  await h.expectTick(a, 'And a second one', 'read');
  await h.expectTick(b, 'Bob also typed offline', 'read');

  // Live traffic flows again after the restart.
  await h.send(b, 'After the restart');
  await expect(h.message(a, 'After the restart')).toHaveCount(1);

  // The server's copy agrees: a reload shows each message once.
  const final = [...orderA, 'After the restart'];
  for (const p of [a, b]) {
    await p.reload();
    await h.expectOnline(p);
    await expect(p.getByTestId('message-body')).toHaveText(final);
  }

  for (const u of [alice, bob]) await u.context.close();
  expect(h.problems).toEqual([]);
});

// The outbox survives a reload while offline, and a send whose `ok` never
// arrived is retried with the same client_msg_id: the server stores it once and
// the page shows it once.
test('offline outbox: persisted across reload, retried without duplicates', async ({ browser }) => {
  const alice = await h.signIn(browser, 'Alice');
  const bob = await h.signIn(browser, 'Bob');
  const [a, b] = [alice.page, bob.page];
  await h.startDirectChat(a, bob.phone);
  await h.send(a, 'Hello');
  await h.openChat(b, 'Alice');
  await expect(h.message(b, 'Hello')).toBeVisible();

  // Alice's WebSocket goes through a proxy we control.
  let mode = 'pass';
  const sends = []; // every `send` frame the page sent
  await a.routeWebSocket(/\/v1\/ws$/, (ws) => {
    if (mode === 'block') {
      ws.close({ code: 1011, reason: 'blocked by the test' });
      return;
    }
    const server = ws.connectToServer();
    const lose = mode === 'lose-ok';
    let blackout = false;
    ws.onMessage((m) => {
      server.send(m);
      const f = JSON.parse(String(m));
      if (f.type === 'send') sends.push(f);
      if (lose && f.type === 'send') {
        // The server stores it, but neither its `ok` nor the event reaches the page.
        blackout = true;
        setTimeout(() => { mode = 'pass'; ws.close({ code: 1011, reason: 'lost' }); server.close(); }, 500);
      }
    });
    server.onMessage((m) => { if (!blackout) ws.send(m); });
  });

  // 1. Offline: the message waits in the outbox, which survives a reload.
  mode = 'block';
  await a.reload();
  await expect(a.getByTestId('connection-status')).toBeVisible();
  await h.send(a, 'Queued while offline');
  await expect(h.message(a, 'Queued while offline').getByTestId('tick')).toHaveAttribute('data-status', 'pending');
  await a.reload();
  await expect(h.message(a, 'Queued while offline').getByTestId('tick')).toHaveAttribute('data-status', 'pending');
  expect(await a.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith('.outbox')).map((k) => JSON.parse(localStorage[k]).length))).toEqual([1]);
  mode = 'pass';
  await h.expectOnline(a);
  await expect(h.message(b, 'Queued while offline')).toHaveCount(1);
  await h.expectTick(a, 'Queued while offline', 'read');

  // 2. The `ok` is lost with the connection: the retry is deduplicated.
  mode = 'lose-ok';
  await a.reload();
  await h.expectOnline(a);
  await h.send(a, 'Sent once, acknowledged late');
  await expect(h.message(b, 'Sent once, acknowledged late')).toHaveCount(1);
  await h.expectOnline(a);
  await h.expectTick(a, 'Sent once, acknowledged late', 'read');
  const expected = ['Hello', 'Queued while offline', 'Sent once, acknowledged late'];
  await expect(a.getByTestId('message-body')).toHaveText(expected);
  await expect(b.getByTestId('message-body')).toHaveText(expected);
  await b.reload();
  await expect(b.getByTestId('message-body')).toHaveText(expected);
  // It was sent twice, with the same client_msg_id.
  const late = sends.filter((f) => f.body === 'Sent once, acknowledged late');
  expect(late.length).toBe(2);
  expect(late[1].client_msg_id).toBe(late[0].client_msg_id);

  expect(h.problems).toEqual([]);
  for (const u of [alice, bob]) await u.context.close();
});
