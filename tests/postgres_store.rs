//! The PostgreSQL store against a real server: the store contract (every record round
//! trips, keys page in order, audit queries, retention, the append-only audit log,
//! rollback), the migrations, the issuer's own flow on it, and several instances (each an
//! `Issuer` over its own `PostgresStore`, as on several hosts) racing on one device.
//!
//! Run them under `scripts/with-postgres.sh`, which starts a throwaway server and sets
//! `DIGITAL_OTP_TEST_POSTGRES`:
//!
//! ```text
//! scripts/with-postgres.sh cargo test --features postgres,test-support --test postgres_store
//! ```
//!
//! Without that variable every test fails, unless `DIGITAL_OTP_SKIP_POSTGRES=1` says to
//! skip them. Each test works in a database of its own, so they run in parallel.
#![cfg(feature = "postgres")]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Barrier, Mutex};

use common::pg::{ca, fresh_database};
use digital_otp::client::{Client, MIN_PBKDF2_ITERATIONS};
use digital_otp::enrollment::Device;
use digital_otp::host::{DeviceKey, DeviceKeys, FixedClock, HostError, KeyEvidence};
use digital_otp::issuer::attestation::{AttestationPolicy, SecurityLevel};
use digital_otp::issuer::master_key::{MasterKey, MasterKeyError};
use digital_otp::issuer::model::*;
use digital_otp::issuer::postgres::PostgresStore;
use digital_otp::issuer::store::{
    link_key, pair_key, IssuerStore, IssuerTx, MemoryStore, Rollback, StoreFault, Table,
};
use digital_otp::issuer::{Fault, ImportDevice, Issuer, IssuerConfig, NewCustomer, Verdict};
use digital_otp::otp::{Algorithm, Secret, Totp};
use digital_otp::storage;
use postgres::NoTls;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

const T0: u64 = 1_800_000_000;
const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const PASSWORD: &str = "482915";
const STAFF: &str = "branch-001/emp-42";

/// A plain client of the database (to look under the store).
fn raw(url: &str) -> postgres::Client {
    postgres::Client::connect(url, NoTls).unwrap()
}

/// Runs `f` in a committed transaction and returns its value.
fn tx<T>(store: &dyn IssuerStore, mut f: impl FnMut(&mut dyn IssuerTx) -> T) -> T {
    let mut out = None;
    store
        .transaction(&mut |tx| {
            out = Some(f(tx));
            Ok(())
        })
        .unwrap();
    out.unwrap()
}

/// Runs `f` in a transaction, passing its store faults on (so that the store re-runs it
/// after losing to a concurrent transaction), and returns its value.
fn try_tx<T>(
    store: &dyn IssuerStore,
    mut f: impl FnMut(&mut dyn IssuerTx) -> Result<T, StoreFault>,
) -> Result<T, Rollback> {
    let mut out = None;
    store.transaction(&mut |tx| {
        out = Some(f(tx)?);
        Ok(())
    })?;
    Ok(out.unwrap())
}

/// The server's message of a refused statement.
fn refusal(e: &postgres::Error) -> String {
    e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string())
}

// ------------------------------------------------------------------ records

fn institution(id: &str) -> Institution {
    Institution {
        institution_id: id.into(),
        name: format!("Bank {id}"),
        attestation: AttestationPolicy::default(),
        require_integrity: true,
        channel_rules: vec![ChannelRule {
            operation: DeskOperation::Cancel,
            channels: vec![DeskChannel::Branch, DeskChannel::MobileWeb],
        }],
        mac: "mac-i".into(),
    }
}

fn customer(inst: &str, id: &str) -> Customer {
    Customer {
        institution_id: inst.into(),
        customer_id: id.into(),
        name: "홍길동".into(),
        kind: CustomerKind::Individual,
        residency: Residency::Domestic,
        phone_e164: "+821012345678".into(),
        created_at: T0,
        person: Some("ab".repeat(16)),
        mac: "mac-c".into(),
    }
}

fn device(id: &str) -> OtpDevice {
    let (vendor, serial) = id.split_once(':').unwrap();
    OtpDevice {
        device_id: id.into(),
        vendor_code: vendor.into(),
        serial_number: serial.into(),
        kind: DeviceKind::Mobile,
        sealed_secret: "00ff".into(),
        algorithm: "SHA256".into(),
        digits: 8,
        moving: Moving::Totp { period: 30 },
        transaction_suite: Some("OCRA-1:HOTP-SHA256-8:QH64-T30S".into()),
        state: DeviceState::Stolen,
        error_count: 3,
        last_login_step: Some(60_000_000),
        last_transaction_step: None,
        used_transactions: vec![(60_000_000, "tag".into())],
        drift_steps: -2,
        valid_until: T0 + 86_400,
        device_binding: Some("beef".into()),
        created_at: T0,
        unlock: Some(Unlock {
            device_key: "04aa".into(),
            key_level: Some(SecurityLevel::StrongBox),
            sealed_keys: "0102".into(),
            unconfirmed: 2,
            evaluations: 7,
            last_request_ms: T0 * 1000,
        }),
        accident: Some(AccidentReport {
            reported_at: T0,
            cleared_in_person: true,
            cleared_at: vec!["bank-a".into()],
        }),
        mac: "mac-d".into(),
    }
}

fn link(inst: &str, cust: &str, dev: &str) -> Link {
    Link {
        link_id: 0,
        institution_id: inst.into(),
        customer_id: cust.into(),
        device_id: dev.into(),
        state: LinkState::Active,
        since: T0,
        ended: None,
        mac: "mac-l".into(),
    }
}

fn code(code_ref: &str, inst: &str, cust: &str, lookup: &str, state: CodeState) -> CodeRecord {
    CodeRecord {
        code_ref: code_ref.into(),
        lookup: lookup.into(),
        sealed_code: "sealed".into(),
        institution_id: inst.into(),
        customer_id: cust.into(),
        channel: Channel::NonFaceToFace { reference: "kyc-1".into() },
        issued_at: T0,
        expires_at: T0 + 600,
        failed_attempts: 1,
        state,
        attempts: vec!["a1".into()],
        mac: "mac-r".into(),
    }
}

fn sms(inst: &str, cust: &str) -> SmsChallenge {
    SmsChallenge {
        institution_id: inst.into(),
        customer_id: cust.into(),
        code_hash: "hash".into(),
        salt: "salt".into(),
        expires_at: T0 + 300,
        failed_attempts: 4,
        mac: "mac-s".into(),
    }
}

fn entry(id: u64, at: u64, inst: &str, action: &str, subject: &str) -> AuditEntry {
    AuditEntry {
        id,
        at,
        institution_id: inst.into(),
        actor: "web".into(),
        action: action.into(),
        subject: subject.into(),
        outcome: "ok".into(),
        detail: format!("entry {id}"),
        hash: format!("h{id}"),
    }
}

/// Writes one of every record (and a second of most) to `store`.
fn fill(store: &dyn IssuerStore) {
    tx(store, |t| {
        for i in ["bank-b", "bank-a", "bank-a.x"] {
            t.put_institution(&institution(i)).unwrap();
        }
        for (i, c) in [("bank-a", "lee"), ("bank-a", "kim"), ("bank-b", "kim"), ("bank-a.x", "a")] {
            t.put_customer(&customer(i, c)).unwrap();
        }
        for d in ["DOTP:2", "DOTP:1", "VASCO:9"] {
            t.put_device(&device(d)).unwrap();
        }
        assert_eq!(t.put_link(&link("bank-a", "kim", "DOTP:1")).unwrap(), 1);
        assert_eq!(t.put_link(&link("bank-b", "kim", "DOTP:1")).unwrap(), 2);
        assert_eq!(t.put_link(&link("bank-a", "kim", "DOTP:2")).unwrap(), 3);
        t.put_code(&code("r2", "bank-a", "kim", "L1", CodeState::Issued)).unwrap();
        t.put_code(&code("r1", "bank-a", "kim", "L1", CodeState::Issued)).unwrap();
        t.put_code(&code("r3", "bank-a", "kim", "L1", CodeState::Void)).unwrap();
        t.put_code(&code("r4", "bank-b", "kim", "L2", CodeState::Issued)).unwrap();
        t.put_sms(&sms("bank-a", "kim")).unwrap();
        t.put_sms(&sms("bank-b", "lee")).unwrap();
        t.put_meta("k", "v1").unwrap();
    });
}

/// Every key of `table`, read in pages of two.
fn paged(t: &mut dyn IssuerTx, table: Table) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    loop {
        let page = t.keys_of(table, keys.last().map_or("", String::as_str), 2).unwrap();
        assert!(page.len() <= 2);
        if page.is_empty() {
            return keys;
        }
        keys.extend(page);
    }
}

#[test]
fn every_record_round_trips_and_keys_page_in_order_as_in_memory() {
    let Some(url) = fresh_database() else { return };
    let pg = PostgresStore::connect(&url).unwrap();
    let memory = MemoryStore::new();
    fill(&pg);
    fill(&memory);
    let tables = [
        Table::Institutions,
        Table::Customers,
        Table::Devices,
        Table::Links,
        Table::Codes,
        Table::Sms,
    ];
    for table in tables {
        let (p, m) = (tx(&pg, |t| paged(t, table)), tx(&memory, |t| paged(t, table)));
        assert_eq!(p, m, "{table:?}");
        assert!(!p.is_empty());
    }
    assert_eq!(
        tx(&pg, |t| paged(t, Table::Customers)),
        vec![
            pair_key("bank-a", "kim"),
            pair_key("bank-a", "lee"),
            pair_key("bank-a.x", "a"),
            pair_key("bank-b", "kim")
        ]
    );
    assert_eq!(tx(&pg, |t| paged(t, Table::Links)), vec![link_key(1), link_key(2), link_key(3)]);
    // Paging from a key in the middle, and from keys that are no key.
    tx(&pg, |t| {
        assert_eq!(t.keys_of(Table::Links, &link_key(1), 10).unwrap(), [link_key(2), link_key(3)]);
        assert_eq!(t.keys_of(Table::Links, "0000000000000000000", 1).unwrap(), [link_key(1)]);
        assert!(t.keys_of(Table::Links, "1", 10).unwrap().is_empty());
        assert_eq!(t.keys_of(Table::Customers, "bank-a", 1).unwrap(), [pair_key("bank-a", "kim")]);
        assert_eq!(t.keys_of(Table::Devices, "DOTP:1", 5).unwrap(), ["DOTP:2", "VASCO:9"]);
        assert!(t.keys_of(Table::Codes, "r4", 5).unwrap().is_empty());
    });
    tx(&pg, |t| {
        assert_eq!(t.institution("bank-a").unwrap(), Some(institution("bank-a")));
        assert_eq!(t.institution("bank-c").unwrap(), None);
        assert_eq!(t.customer("bank-b", "kim").unwrap(), Some(customer("bank-b", "kim")));
        assert_eq!(t.customer("bank-b", "lee").unwrap(), None);
        assert_eq!(t.device("DOTP:1").unwrap(), Some(device("DOTP:1")));
        assert_eq!(t.device("DOTP:3").unwrap(), None);
        let ids = |links: Vec<Link>| links.iter().map(|l| l.link_id).collect::<Vec<_>>();
        assert_eq!(ids(t.links_of_customer("bank-a", "kim").unwrap()), [1, 3]);
        assert_eq!(ids(t.links_of_device("DOTP:1").unwrap()), [1, 2]);
        let l2 = t.link(2).unwrap().unwrap();
        assert_eq!(l2, Link { link_id: 2, ..link("bank-b", "kim", "DOTP:1") });
        assert_eq!(t.link(4).unwrap(), None);
        assert_eq!(
            t.code("r4").unwrap(),
            Some(code("r4", "bank-b", "kim", "L2", CodeState::Issued))
        );
        let refs = |codes: Vec<CodeRecord>| {
            let mut r: Vec<String> = codes.into_iter().map(|c| c.code_ref).collect();
            r.sort();
            r
        };
        assert_eq!(refs(t.codes_of_customer("bank-a", "kim").unwrap()), ["r1", "r2", "r3"]);
        assert_eq!(refs(t.open_codes_by_lookup("L1").unwrap()), ["r1", "r2"]);
        assert_eq!(t.sms("bank-a", "kim").unwrap(), Some(sms("bank-a", "kim")));
        assert_eq!(t.meta("k").unwrap().as_deref(), Some("v1"));
        assert_eq!(t.meta("nothing").unwrap(), None);
    });
    // Replacing: every put is an upsert, and a link keeps its id.
    tx(&pg, |t| {
        let mut d = device("DOTP:1");
        d.state = DeviceState::Active;
        d.error_count = 0;
        d.accident = None;
        t.put_device(&d).unwrap();
        let mut l = t.link(1).unwrap().unwrap();
        l.state = LinkState::Revoked;
        l.ended = Some((T0 + 5, "replaced".into()));
        assert_eq!(t.put_link(&l).unwrap(), 1);
        let mut r = code("r1", "bank-a", "kim", "L1", CodeState::Used);
        r.failed_attempts = 5;
        t.put_code(&r).unwrap();
        t.put_meta("k", "v2").unwrap();
        t.delete_sms("bank-a", "kim").unwrap();
        t.put_customer(&Customer {
            phone_e164: "+821099999999".into(),
            ..customer("bank-a", "kim")
        })
        .unwrap();
    });
    tx(&pg, |t| {
        let d = t.device("DOTP:1").unwrap().unwrap();
        assert_eq!((d.state, d.error_count, d.accident), (DeviceState::Active, 0, None));
        let l = t.link(1).unwrap().unwrap();
        assert_eq!((l.state, l.ended), (LinkState::Revoked, Some((T0 + 5, "replaced".into()))));
        assert_eq!(t.code("r1").unwrap().unwrap().failed_attempts, 5);
        let mut open: Vec<String> =
            t.open_codes_by_lookup("L1").unwrap().into_iter().map(|c| c.code_ref).collect();
        open.sort();
        assert_eq!(open, ["r2"]);
        assert_eq!(t.meta("k").unwrap().as_deref(), Some("v2"));
        assert_eq!(t.sms("bank-a", "kim").unwrap(), None);
        assert_eq!(t.customer("bank-a", "kim").unwrap().unwrap().phone_e164, "+821099999999");
    });
    // The lookup columns follow the records.
    let mut c = raw(&url);
    let row = c.query_one("SELECT state FROM devices WHERE device_id = 'DOTP:1'", &[]).unwrap();
    assert_eq!(row.get::<_, String>(0), "active");
    let row = c.query_one("SELECT state FROM codes WHERE code_ref = 'r1'", &[]).unwrap();
    assert_eq!(row.get::<_, String>(0), "used");
}

#[test]
fn serial_numbers_and_link_ids_are_unique_across_concurrent_instances() {
    let Some(url) = fresh_database() else { return };
    PostgresStore::connect(&url).unwrap();
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (url, start) = (url.clone(), start.clone());
            std::thread::spawn(move || {
                let store = PostgresStore::connect(&url).unwrap();
                start.wait();
                (0..5)
                    .map(|_| {
                        try_tx(&store, |t| {
                            let serial = t.next_serial("bank-a")?;
                            let id = t.put_link(&link("bank-a", "kim", "DOTP:1"))?;
                            Ok((serial, id))
                        })
                        .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut serials = Vec::new();
    let mut ids = Vec::new();
    for t in threads {
        for (serial, id) in t.join().unwrap() {
            serials.push(serial);
            ids.push(id);
        }
    }
    serials.sort();
    assert_eq!(serials, (1..=40).collect::<Vec<u64>>(), "no serial twice, none skipped");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "every link its own id");
    let store = PostgresStore::connect(&url).unwrap();
    assert_eq!(tx(&store, |t| t.links_of_device("DOTP:1").unwrap().len()), 40);
    // Serials count per institution.
    assert_eq!(tx(&store, |t| t.next_serial("bank-b").unwrap()), 1);
    assert_eq!(tx(&store, |t| t.next_serial("bank-a").unwrap()), 41);
}

#[test]
fn a_transaction_that_fails_or_gives_up_leaves_nothing() {
    let Some(url) = fresh_database() else { return };
    let store = PostgresStore::connect(&url).unwrap();
    // The closure gives up: its writes are rolled back, and the reason is the caller's.
    let result = store.transaction(&mut |t| {
        t.put_institution(&institution("bank-a"))?;
        t.next_serial("bank-a")?;
        t.put_link(&link("bank-a", "kim", "DOTP:1"))?;
        t.append_audit(&entry(1, T0, "bank-a", "add", "s"))?;
        Err(Rollback::Abort)
    });
    assert_eq!(result, Err(Rollback::Abort));
    // The closure returns a store fault of its own.
    let fault = StoreFault::Corrupt("test".into());
    let result = store.transaction(&mut |t| {
        t.put_meta("k", "v")?;
        Err(Rollback::Store(fault.clone()))
    });
    assert_eq!(result, Err(Rollback::Store(fault)));
    // A statement fails and the closure ignores it: nothing is committed all the same
    // (PostgreSQL's text holds no NUL, so that key cannot be written).
    let result = store.transaction(&mut |t| {
        t.put_meta("k", "v")?;
        assert!(matches!(t.put_meta("nul\u{0}key", "v"), Err(StoreFault::Database(_))));
        Ok(())
    });
    let Err(Rollback::Store(StoreFault::Database(message))) = result else { panic!("{result:?}") };
    assert!(!message.contains("nul"), "no value in the message: {message}");
    tx(&store, |t| {
        assert_eq!(t.institution("bank-a").unwrap(), None);
        assert_eq!(t.meta("k").unwrap(), None);
        assert_eq!(t.last_audit().unwrap(), None);
        assert!(t.links_of_device("DOTP:1").unwrap().is_empty());
        assert_eq!(t.next_serial("bank-a").unwrap(), 1, "the serial was rolled back too");
    });
    assert!(store.audit(&AuditQuery::default()).unwrap().is_empty());
}

#[test]
fn audit_queries_retention_and_the_append_only_log() {
    let Some(url) = fresh_database() else { return };
    let store = PostgresStore::connect(&url).unwrap();
    let entries = [
        entry(1, T0, "bank-a", "verify_login", "customer:kim"),
        entry(2, T0 + 10, "bank-b", "verify_login", "customer:kim"),
        entry(3, T0 + 20, "bank-a", "cancel", "device:DOTP:1"),
        entry(4, T0 + 30, "bank-a", "verify_login", "customer:lee"),
        entry(5, T0 + 40, "", "import_device", "device:VASCO:1"),
    ];
    tx(&store, |t| {
        for e in &entries {
            t.append_audit(e).unwrap();
        }
    });
    let ids = |q: AuditQuery| store.audit(&q).unwrap().iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(AuditQuery::default()), [5, 4, 3, 2, 1], "newest first");
    assert_eq!(store.audit(&AuditQuery::default()).unwrap()[4], entries[0], "every column");
    assert_eq!(
        ids(AuditQuery { institution_id: Some("bank-a".into()), ..Default::default() }),
        [4, 3, 1]
    );
    assert_eq!(
        ids(AuditQuery { subject: Some("customer:kim".into()), ..Default::default() }),
        [2, 1]
    );
    assert_eq!(ids(AuditQuery { action: Some("cancel".into()), ..Default::default() }), [3]);
    assert_eq!(
        ids(AuditQuery { from: Some(T0 + 10), until: Some(T0 + 30), ..Default::default() }),
        [3, 2]
    );
    assert_eq!(
        ids(AuditQuery {
            institution_id: Some("bank-a".into()),
            action: Some("verify_login".into()),
            limit: 1,
            ..Default::default()
        }),
        [4]
    );
    assert_eq!(ids(AuditQuery { limit: 2, ..Default::default() }), [5, 4]);
    let after =
        |a: u64, n: u32| store.audit_after(a, n).unwrap().iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(after(0, 2), vec![1, 2]);
    assert_eq!(after(2, 10), vec![3, 4, 5]);
    assert_eq!(after(5, 10), Vec::<u64>::new());
    assert_eq!(tx(&store, |t| t.last_audit().unwrap()), Some(entries[4].clone()));
    // An id already used is refused.
    let again = store.transaction(&mut |t| Ok(t.append_audit(&entries[2])?));
    assert!(matches!(again, Err(Rollback::Store(StoreFault::Database(_)))), "{again:?}");

    // Under the store: no rewrite, no deletion within retention, no truncation.
    let mut c = raw(&url);
    let update = c.execute("UPDATE audit SET outcome = 'rejected'", &[]).unwrap_err();
    assert!(refusal(&update).contains("append-only"), "{update:?}");
    let delete = c.execute("DELETE FROM audit WHERE id = 1", &[]).unwrap_err();
    assert!(refusal(&delete).contains("retention"), "{delete:?}");
    let truncate = c.batch_execute("TRUNCATE audit").unwrap_err();
    assert!(refusal(&truncate).contains("append-only"), "{truncate:?}");

    // Purging: only entries older than the cut-off, with the newest of them returned.
    assert_eq!(tx(&store, |t| t.purge_audit(T0).unwrap()), (0, None));
    let (n, newest) = tx(&store, |t| t.purge_audit(T0 + 25).unwrap());
    assert_eq!((n, newest), (3, Some(entries[2].clone())));
    assert_eq!(ids(AuditQuery::default()), [5, 4]);
    // The cut-off is not left behind for anyone else's DELETE.
    assert_eq!(tx(&store, |t| t.meta("audit_purge_before").unwrap()), None);
    let delete = c.execute("DELETE FROM audit", &[]).unwrap_err();
    assert!(refusal(&delete).contains("retention"), "{delete:?}");
    assert_eq!(ids(AuditQuery::default()), [5, 4]);
}

#[test]
fn unreadable_rows_are_typed_corruption_never_a_panic() {
    let Some(url) = fresh_database() else { return };
    let store = PostgresStore::connect(&url).unwrap();
    let mut c = raw(&url);
    c.batch_execute(
        "INSERT INTO institutions VALUES ('bank-a', 'not json');
         INSERT INTO customers VALUES ('bank-a', 'kim', '{\"institution_id\": 1}');
         INSERT INTO devices VALUES ('DOTP:1', 'active', '');
         INSERT INTO links (institution_id, customer_id, device_id, data)
             VALUES ('bank-a', 'kim', 'DOTP:1', '[1, 2');
         INSERT INTO audit (id, at, institution_id, actor, action, subject, outcome, detail)
             VALUES (1, -5, '', 'a', 'b', 'c', 'd', 'e');",
    )
    .unwrap();
    let corrupt =
        |r: Result<(), StoreFault>| assert!(matches!(r, Err(StoreFault::Corrupt(_))), "{r:?}");
    tx(&store, |t| {
        corrupt(t.institution("bank-a").map(drop));
        corrupt(t.customer("bank-a", "kim").map(drop));
        corrupt(t.device("DOTP:1").map(drop));
        corrupt(t.links_of_device("DOTP:1").map(drop));
        corrupt(t.last_audit().map(drop));
    });
    corrupt(store.audit(&AuditQuery::default()).map(drop));
    corrupt(store.audit_after(0, 10).map(drop));
    // The corrupt record's text is not in the fault.
    let Err(StoreFault::Corrupt(why)) = tx(&store, |t| t.institution("bank-a")) else {
        panic!("corrupt")
    };
    assert!(!why.contains("not json"), "{why}");
}

#[test]
fn migrations_run_once_and_a_newer_schema_is_refused() {
    let Some(url) = fresh_database() else { return };
    // Instances starting together on a new database: the schema is made once (even where
    // transactions are serializable unless they say otherwise).
    let mut c = raw(&url);
    let db: String = c.query_one("SELECT current_database()", &[]).unwrap().get(0);
    c.batch_execute(&format!(
        "ALTER DATABASE {db} SET default_transaction_isolation = serializable"
    ))
    .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PostgresStore::connect(&url).map(|s| s.schema_version()))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), Ok(1));
    }
    let store = PostgresStore::connect(&url).unwrap();
    tx(&store, |t| t.put_institution(&institution("bank-a")).unwrap());
    let again = PostgresStore::connect(&url).unwrap();
    assert_eq!(again.schema_version(), Ok(1), "the latest version");
    assert_eq!(tx(&again, |t| t.institution("bank-a").unwrap()), Some(institution("bank-a")));
    let versions: Vec<i64> = c
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, [1], "each migration recorded once");
    c.execute("INSERT INTO schema_version VALUES (99, 0)", &[]).unwrap();
    assert_eq!(PostgresStore::connect(&url).unwrap_err(), StoreFault::SchemaTooNew(99));
    // Nothing reachable gives a store.
    assert!(matches!(PostgresStore::connect("not a url"), Err(StoreFault::Database(_))));
}

// ------------------------------------------------------------------ the issuer on it

/// P-256 device keys in memory (the app side of the tests).
#[derive(Default)]
struct Keys(Mutex<HashMap<String, Vec<u8>>>);

fn key_pair(pkcs8: &[u8]) -> Result<EcdsaKeyPair, HostError> {
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &SystemRandom::new())
        .map_err(|_| HostError::Failed { reason: "key".into() })
}

impl DeviceKeys for Keys {
    fn create_key(&self, alias: String, _challenge: Vec<u8>) -> Result<DeviceKey, HostError> {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                .map_err(|_| HostError::Failed { reason: "key".into() })?;
        let public_key = key_pair(pkcs8.as_ref())?.public_key().as_ref().to_vec();
        self.0.lock().unwrap().insert(alias, pkcs8.as_ref().to_vec());
        Ok(DeviceKey { public_key, evidence: KeyEvidence::default() })
    }
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, HostError> {
        let pkcs8 = self.0.lock().unwrap().get(&alias).cloned();
        let pair = key_pair(&pkcs8.ok_or(HostError::Failed { reason: "no key".into() })?)?;
        let sig = pair
            .sign(&SystemRandom::new(), &message)
            .map_err(|_| HostError::Failed { reason: "sign".into() })?;
        Ok(sig.as_ref().to_vec())
    }
    fn delete_key(&self, alias: String) -> Result<(), HostError> {
        self.0.lock().unwrap().remove(&alias);
        Ok(())
    }
}

/// An issuer over its own connection to the database at `url`, at `clock`.
fn instance(url: &str, clock: Arc<FixedClock>) -> Issuer {
    let store = Arc::new(PostgresStore::connect(url).unwrap());
    Issuer::open(store, MasterKey::from_hex(KEY).unwrap(), clock, None, IssuerConfig::default())
        .unwrap()
}

fn new_customer(inst: &str, id: &str) -> NewCustomer {
    NewCustomer {
        institution_id: inst.into(),
        customer_id: id.into(),
        name: "홍길동".into(),
        kind: CustomerKind::Individual,
        residency: Residency::Domestic,
        phone_number: "010-1234-5678".into(),
        real_name_number: None,
    }
}

#[test]
fn the_issuer_registers_enrolls_and_verifies_on_postgres() {
    let Some(url) = fresh_database() else { return };
    let clock = Arc::new(FixedClock::new(T0));
    let issuer = instance(&url, clock.clone());
    issuer.add_institution("admin", "bank-a", "Bank A").unwrap();
    issuer.register_customer(STAFF, &new_customer("bank-a", "kim")).unwrap();
    assert_eq!(
        issuer.register_customer(STAFF, &new_customer("bank-a", "kim")),
        Err(Fault::CustomerExists)
    );
    let code = issuer.issue_non_face_to_face("web", "bank-a", "kim", "kyc-123").unwrap();

    // The app registers with the code.
    let app_store = Arc::new(storage::MemoryStore::new());
    let app = Client::with_iterations(
        app_store,
        Arc::new(Keys::default()),
        clock.clone(),
        MIN_PBKDF2_ITERATIONS,
    );
    let phone = Device::new("010-1234-5678", "android-1").unwrap();
    let request = app.begin_registration("bank-a", code.as_str(), phone.clone(), PASSWORD).unwrap();
    let confirmation =
        app.confirm_registration(&issuer.handle_registration("app", &request)).unwrap();
    let outcome = issuer.handle_registration("app", &confirmation);
    let serial = app.complete_registration("bank-a", &outcome).unwrap().serial_number;

    // A login code: unlocked by the bank, accepted once.
    let request = app.begin_login_code("bank-a", PASSWORD, &phone).unwrap();
    let login = app.complete_login_code(&issuer.handle_unlock("mobile-app", &request)).unwrap();
    assert_eq!(issuer.verify_login("web", "bank-a", "kim", &login.code), Ok(Verdict::Accepted));
    assert_eq!(issuer.verify_login("web", "bank-a", "kim", &login.code), Ok(Verdict::Rejected));

    // Another instance sees it all, and the audit chain is whole.
    let other = instance(&url, clock.clone());
    let report = other.customer_inquiry(STAFF, "bank-a", "kim").unwrap();
    assert_eq!(report.devices.len(), 1);
    assert_eq!(report.devices[0].serial_number, serial);
    assert_eq!(report.devices[0].links[0].state, LinkState::Active);
    let d = other.device_inquiry(STAFF, "bank-a", "DOTP", &serial).unwrap();
    assert_eq!((d.state, d.error_count), (DeviceState::Active, 0));
    assert!(d.history.iter().any(|e| e.detail == "code already used"));
    let check = other.verify_audit().unwrap();
    assert!(check.entries > 0);
    assert_eq!(check.faults, vec![]);
    // No code reaches the audit log.
    let log = format!("{:?}", other.audit(&AuditQuery::default()).unwrap());
    assert!(!log.contains(&login.code));
    // A different master key is refused by the database's record of the key.
    let wrong = MasterKey::from_hex(&KEY.replace('0', "f")).unwrap();
    let store = Arc::new(PostgresStore::connect(&url).unwrap());
    assert_eq!(
        Issuer::open(store, wrong, clock, None, IssuerConfig::default()).unwrap_err(),
        Fault::MasterKey(MasterKeyError::Mismatch)
    );
}

/// A physical TOTP token registered for kim at bank-a; its secret.
fn token(issuer: &Issuer) -> Secret {
    let secret = Secret::from_bytes(&[7; 20]).unwrap();
    issuer.add_institution("admin", "bank-a", "Bank A").unwrap();
    issuer.register_customer(STAFF, &new_customer("bank-a", "kim")).unwrap();
    issuer
        .import_device(
            "ops",
            &ImportDevice {
                vendor_code: "VASCO".into(),
                serial_number: "RACE01".into(),
                secret: secret.clone(),
                algorithm: Algorithm::Sha1,
                digits: 6,
                moving: Moving::Totp { period: 30 },
                valid_until: T0 + 365 * 86_400,
            },
        )
        .unwrap();
    issuer.register_device(STAFF, "bank-a", "kim", "VASCO", "RACE01", None).unwrap();
    secret
}

/// Runs `verify` once on each of `n` instances (each its own `Issuer` over its own
/// store), all released at once; their answers.
fn race(
    url: &str,
    n: usize,
    verify: impl Fn(&Issuer) -> Verdict + Send + Sync + 'static,
) -> Vec<Verdict> {
    let verify = Arc::new(verify);
    let instances: Vec<Issuer> =
        (0..n).map(|_| instance(url, Arc::new(FixedClock::new(T0)))).collect();
    let start = Arc::new(Barrier::new(n));
    let threads: Vec<_> = instances
        .into_iter()
        .map(|issuer| {
            let (start, verify) = (start.clone(), verify.clone());
            std::thread::spawn(move || {
                start.wait();
                verify(&issuer)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn sixteen_instances_verifying_one_code_accept_it_exactly_once() {
    let Some(url) = fresh_database() else { return };
    let first = instance(&url, Arc::new(FixedClock::new(T0)));
    let secret = token(&first);
    let code =
        Totp::new(&secret, Algorithm::Sha1, 6, 30, 0).unwrap().generate_at(T0).unwrap().to_string();
    let verdicts =
        race(&url, 16, move |issuer| issuer.verify_login("web", "bank-a", "kim", &code).unwrap());
    assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Accepted).count(), 1, "{verdicts:?}");
    let d = first.device_inquiry(STAFF, "bank-a", "VASCO", "RACE01").unwrap();
    assert_eq!(d.error_count, 0, "a replay is not a wrong code");
    let replays = d.history.iter().filter(|e| e.detail == "code already used").count();
    assert_eq!(replays, 15, "the others refused as replays");
    assert_eq!(first.verify_audit().unwrap().faults, vec![], "one unbroken audit chain");
}

#[test]
fn ten_wrong_codes_from_ten_instances_at_once_lock_the_device_at_exactly_ten() {
    let Some(url) = fresh_database() else { return };
    let first = instance(&url, Arc::new(FixedClock::new(T0)));
    let secret = token(&first);
    // A code that is no step's within reach of the window and the drift.
    let totp = Totp::new(&secret, Algorithm::Sha1, 6, 30, 0).unwrap();
    let near: Vec<String> = (-8i64..=8)
        .map(|k| totp.generate_at((T0 as i64 + 30 * k) as u64).unwrap().to_string())
        .collect();
    let wrong = (0..).map(|n| format!("{n:06}")).find(|c| !near.contains(c)).unwrap();
    let verdicts =
        race(&url, 10, move |issuer| issuer.verify_login("web", "bank-a", "kim", &wrong).unwrap());
    assert!(verdicts.iter().all(|v| *v == Verdict::Rejected));
    let d = first.device_inquiry(STAFF, "bank-a", "VASCO", "RACE01").unwrap();
    assert_eq!((d.error_count, d.state), (10, DeviceState::Locked), "no count lost");
    assert_eq!(first.verify_audit().unwrap().faults, vec![]);
}

#[test]
fn connections_off_this_host_need_verified_tls() {
    let Some(url) = fresh_database() else { return };
    // The same database by name, over TLS, the server checked against the run's CA.
    let tls_url = format!("{}?sslmode=require", url.replacen("127.0.0.1", "localhost", 1));
    let store = PostgresStore::connect_with(&tls_url, 1, Some(&ca())).expect("verified TLS");
    assert_eq!(store.schema_version().unwrap(), 1);
    let mut raw = raw(&url);
    let tls_sessions: i64 = raw
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE s.ssl AND a.datname = current_database()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tls_sessions, 1, "the store's connection is TLS (the raw one is not)");

    // A server whose certificate another CA signed: refused (a man in the middle).
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let wrong_ca = std::env::temp_dir().join(format!("dotp-other-ca-{}.pem", std::process::id()));
    std::fs::write(&wrong_ca, other.cert.pem()).unwrap();
    let refused = PostgresStore::connect_with(&tls_url, 1, Some(&wrong_ca));
    let _ = std::fs::remove_file(&wrong_ca);
    assert!(matches!(refused, Err(StoreFault::Database(_))), "{refused:?}");

    // Another host without sslmode=require: refused before any connection is tried.
    let remote = PostgresStore::connect("postgres://dotp@db.bank.example:5432/issuer");
    match remote {
        Err(StoreFault::Database(why)) => assert!(why.contains("sslmode=require"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_panic_inside_a_transaction_does_not_leave_the_writer_lock_held() {
    let Some(url) = fresh_database() else { return };
    let store = Arc::new(PostgresStore::connect_with(&url, 1, None).unwrap());
    let panicking = store.clone();
    let caught = std::thread::spawn(move || {
        let _ = panicking.transaction(&mut |tx| {
            tx.put_institution(&institution("bank-p"))?;
            panic!("a bug in an issuer operation");
        });
    })
    .join();
    assert!(caught.is_err(), "the closure panicked");
    // Another instance still gets its turn (a failure guard, not a timing: a held lock
    // would block it for ever), and the panicked transaction left nothing.
    let other = PostgresStore::connect_with(&url, 1, None).unwrap();
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let found = tx(&other, |t| t.institution("bank-p").unwrap());
        let _ = done.send(found.is_none());
    });
    let nothing = wait
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the writer lock was left held");
    assert!(nothing, "the panicked transaction was committed");
    // The panicking store's own pool serves again too.
    assert!(tx(&*store, |t| t.institution("bank-p").unwrap()).is_none());
}
