package pulsartest_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/rest"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func newAdmin(t testing.TB, srv *pulsartest.Server) pulsaradmin.Client {
	t.Helper()
	a, err := pulsaradmin.NewClient(&pulsaradmin.Config{WebServiceURL: srv.AdminURL()})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func topicName(t testing.TB, name string) utils.TopicName {
	t.Helper()
	tn, err := utils.GetTopicName(name)
	if err != nil {
		t.Fatal(err)
	}
	return *tn
}

// wantCode checks that err is the admin error a broker returns.
func wantCode(t testing.TB, err error, code int) {
	t.Helper()
	var re rest.Error
	if !errors.As(err, &re) || re.Code != code || re.Reason == "" {
		t.Fatalf("error %v (%T), want rest.Error with code %d and a reason", err, err, code)
	}
}

func produce(t testing.TB, client pulsar.Client, topic string, payloads ...string) []pulsar.MessageID {
	t.Helper()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: topic, DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var ids []pulsar.MessageID
	for _, p := range payloads {
		id, err := prod.Send(ctxT(t, 10*time.Second), &pulsar.ProducerMessage{Payload: []byte(p), Properties: map[string]string{"k": p}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestAdminTenantsAndNamespaces(t *testing.T) {
	srv := newServer(t)
	a := newAdmin(t, srv)
	tenants, err := a.Tenants().List()
	if err != nil || !slices.Contains(tenants, "public") {
		t.Fatalf("tenants %v, %v", tenants, err)
	}
	if err := a.Tenants().Create(utils.TenantData{Name: "acme", AllowedClusters: []string{"standalone"}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, a.Tenants().Create(utils.TenantData{Name: "acme"}), 409)
	_, err = a.Tenants().Get("nobody")
	wantCode(t, err, 404)
	td, err := a.Tenants().Get("acme")
	if err != nil || !slices.Equal(td.AllowedClusters, []string{"standalone"}) {
		t.Fatalf("tenant %+v, %v", td, err)
	}
	wantCode(t, a.Namespaces().CreateNamespace("nobody/ns"), 404)
	if err := a.Namespaces().CreateNamespace("acme/orders"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, a.Namespaces().CreateNamespace("acme/orders"), 409)
	nss, err := a.Namespaces().GetNamespaces("acme")
	if err != nil || !slices.Equal(nss, []string{"acme/orders"}) {
		t.Fatalf("namespaces %v, %v", nss, err)
	}
	_, err = a.Namespaces().GetTopics("acme/missing")
	wantCode(t, err, 404)
	wantCode(t, a.Tenants().Delete("acme"), 409)
	wantCode(t, a.Namespaces().DeleteNamespace("acme/missing"), 404)
	if err := a.Namespaces().DeleteNamespace("acme/orders"); err != nil {
		t.Fatal(err)
	}
	if err := a.Tenants().Delete("acme"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, a.Tenants().Delete("acme"), 404)
}

func TestAdminTopics(t *testing.T) {
	srv := newServer(t)
	a := newAdmin(t, srv)
	plain := topicName(t, "persistent://public/default/plain")
	parted := topicName(t, "persistent://public/default/parted")
	volatile := topicName(t, "non-persistent://public/default/volatile")
	for _, c := range []struct {
		tn utils.TopicName
		n  int
	}{{plain, 0}, {parted, 2}, {volatile, 0}} {
		if err := a.Topics().Create(c.tn, c.n); err != nil {
			t.Fatalf("create %s: %v", c.tn.String(), err)
		}
	}
	wantCode(t, a.Topics().Create(plain, 0), 409)
	wantCode(t, a.Topics().Create(parted, 3), 409)
	wantCode(t, a.Topics().Create(topicName(t, "persistent://public/missing/x"), 0), 404)

	partitioned, nonPartitioned, err := a.Topics().List(nsName(t, "public/default"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(nonPartitioned)
	if !slices.Equal(partitioned, []string{"persistent://public/default/parted"}) ||
		!slices.Equal(nonPartitioned, []string{
			"non-persistent://public/default/volatile",
			"persistent://public/default/parted-partition-0",
			"persistent://public/default/parted-partition-1",
			"persistent://public/default/plain",
		}) {
		t.Fatalf("partitioned %v, non-partitioned %v", partitioned, nonPartitioned)
	}

	md, err := a.Topics().GetMetadata(parted)
	if err != nil || md.Partitions != 2 {
		t.Fatalf("metadata %+v, %v", md, err)
	}
	if err := a.Topics().Update(parted, 4); err != nil {
		t.Fatal(err)
	}
	wantCode(t, a.Topics().Update(parted, 3), 422)
	wantCode(t, a.Topics().Update(topicName(t, "missing"), 3), 404)
	if md, _ := a.Topics().GetMetadata(parted); md.Partitions != 4 {
		t.Fatalf("partitions after update: %d", md.Partitions)
	}
	if !slices.Contains(srv.Topics(), "persistent://public/default/parted-partition-3") {
		t.Fatalf("topics %v", srv.Topics())
	}

	if err := a.Topics().Delete(plain, false, true); err != nil {
		t.Fatal(err)
	}
	wantCode(t, a.Topics().Delete(plain, false, true), 404)
	if err := a.Topics().Delete(parted, false, false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, a.Topics().Delete(parted, false, false), 404)
	if got := srv.Topics(); !slices.Equal(got, []string{"non-persistent://public/default/volatile"}) {
		t.Fatalf("topics after delete %v", got)
	}
	_, err = a.Topics().GetStats(plain)
	wantCode(t, err, 404)
	_, err = a.Topics().GetInternalStats(plain)
	wantCode(t, err, 404)
	_, err = a.Topics().GetPartitionedStats(parted, true)
	wantCode(t, err, 404)
}

func TestAdminSubscriptionsStatsAndMessages(t *testing.T) {
	srv := newServer(t)
	a := newAdmin(t, srv)
	client := newClient(t, srv)
	tn := topicName(t, "persistent://public/default/audit")
	ids := produce(t, client, tn.String(), "m0", "m1", "m2", "m3", "m4")

	if err := a.Subscriptions().Create(tn, "audit", utils.Earliest); err != nil {
		t.Fatal(err)
	}
	wantCode(t, a.Subscriptions().Create(tn, "audit", utils.Earliest), 409)
	if err := a.Subscriptions().Create(tn, "late", utils.Latest); err != nil {
		t.Fatal(err)
	}
	subs, err := a.Subscriptions().List(tn)
	if err != nil || !slices.Equal(subs, []string{"audit", "late"}) {
		t.Fatalf("subscriptions %v, %v", subs, err)
	}
	backlog := func(sub string) int64 {
		t.Helper()
		st, err := a.Topics().GetStats(tn)
		if err != nil {
			t.Fatal(err)
		}
		return st.Subscriptions[sub].MsgBacklog
	}
	if b, l := backlog("audit"), backlog("late"); b != 5 || l != 0 {
		t.Fatalf("backlogs %d, %d", b, l)
	}
	if err := a.Subscriptions().SkipMessages(tn, "audit", 2); err != nil {
		t.Fatal(err)
	}
	if b := backlog("audit"); b != 3 {
		t.Fatalf("backlog after skip %d", b)
	}
	if err := a.Subscriptions().ResetCursorToMessageID(tn, "audit", utils.Earliest); err != nil {
		t.Fatal(err)
	}
	if b := backlog("audit"); b != 5 {
		t.Fatalf("backlog after reset %d", b)
	}
	if err := a.Subscriptions().ClearBacklog(tn, "audit"); err != nil {
		t.Fatal(err)
	}
	if b, _ := srv.Backlog(tn.String(), "audit"); b != 0 {
		t.Fatalf("backlog after clear %d", b)
	}
	if err := a.Subscriptions().ResetCursorToTimestamp(tn, "audit", 0); err != nil {
		t.Fatal(err)
	}
	if b := backlog("audit"); b != 5 {
		t.Fatalf("backlog after reset to time 0: %d", b)
	}

	msgs, err := a.Subscriptions().GetMessagesByID(tn, ids[3].LedgerID(), ids[3].EntryID())
	if err != nil || len(msgs) != 1 || string(msgs[0].Payload) != "m3" || msgs[0].Properties["k"] != "m3" {
		t.Fatalf("messages %+v, %v", msgs, err)
	}
	_, err = a.Subscriptions().GetMessagesByID(tn, ids[3].LedgerID(), 99)
	wantCode(t, err, 404)
	peeked, err := a.Subscriptions().PeekMessages(tn, "audit", 2)
	if err != nil || len(peeked) != 2 || string(peeked[1].Payload) != "m1" {
		t.Fatalf("peek %v, %v", peeked, err)
	}

	st, err := a.Topics().GetStats(tn)
	if err != nil || st.MsgCounterIn != 5 || st.StorageSize == 0 {
		t.Fatalf("stats %+v, %v", st, err)
	}
	is, err := a.Topics().GetInternalStats(tn)
	if err != nil || is.NumberOfEntries != 5 || is.Cursors["audit"].MarkDeletePosition == "" {
		t.Fatalf("internal stats %+v, %v", is, err)
	}
	last, err := a.Topics().GetLastMessageID(tn)
	if err != nil || last.EntryID != ids[4].EntryID() {
		t.Fatalf("last id %+v, %v", last, err)
	}

	// A consumer on the subscription keeps it from being deleted.
	cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: tn.String(), SubscriptionName: "audit"})
	if err != nil {
		t.Fatal(err)
	}
	receive(t, cons, 5, 10*time.Second)
	wantCode(t, a.Subscriptions().Delete(tn, "audit"), 412)
	cons.Close()
	if err := a.Subscriptions().Delete(tn, "audit"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, a.Subscriptions().Delete(tn, "audit"), 404)
	wantCode(t, a.Subscriptions().SkipMessages(tn, "audit", 1), 404)
	_, err = a.Subscriptions().List(topicName(t, "missing"))
	wantCode(t, err, 404)
}

func TestAdminPartitionedStats(t *testing.T) {
	srv := newServer(t, pulsartest.WithPartitionedTopic("ps", 2))
	a := newAdmin(t, srv)
	client := newClient(t, srv)
	tn := topicName(t, "ps")
	if err := a.Subscriptions().Create(tn, "s", utils.Earliest); err != nil {
		t.Fatal(err)
	}
	produce(t, client, "ps", "a", "b", "c", "d")
	st, err := a.Topics().GetPartitionedStats(tn, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Metadata.Partitions != 2 || len(st.Partitions) != 2 || st.Subscriptions["s"].MsgBacklog != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAdminSchemas(t *testing.T) {
	srv := newServer(t)
	a := newAdmin(t, srv)
	_, err := a.Schemas().GetSchemaInfo("public/default/typed")
	wantCode(t, err, 404)
	if err := a.Schemas().CreateSchemaByPayload("public/default/typed", utils.PostSchemaPayload{
		SchemaType: "JSON", Schema: orderSchema, Properties: map[string]string{"owner": "ops"},
	}); err != nil {
		t.Fatal(err)
	}
	info, err := a.Schemas().GetSchemaInfoWithVersion("public/default/typed")
	if err != nil || info.SchemaInfo.Type != "JSON" || string(info.SchemaInfo.Schema) != orderSchema ||
		info.SchemaInfo.Properties["owner"] != "ops" || info.Version != 0 {
		t.Fatalf("schema %+v, %v", info, err)
	}
	// A producer with the same schema gets the uploaded version.
	client := newClient(t, srv)
	prod, err := client.CreateProducer(pulsar.ProducerOptions{
		Topic: "typed", Schema: pulsar.NewJSONSchema(orderSchema, nil), DisableBatching: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	prod.Close()
	all, err := a.Schemas().GetAllSchemas("public/default/typed")
	if err != nil || len(all) == 0 {
		t.Fatalf("all schemas %v, %v", all, err)
	}
	if err := a.Schemas().DeleteSchema("public/default/typed"); err != nil {
		t.Fatal(err)
	}
	_, err = a.Schemas().GetSchemaInfo("public/default/typed")
	wantCode(t, err, 404)
	wantCode(t, a.Schemas().DeleteSchema("public/default/typed"), 404)
}

func TestAdminBacklogQuota(t *testing.T) {
	for _, c := range []struct {
		policy utils.RetentionPolicy
		code   string
	}{
		{utils.ProducerException, "ProducerBlockedQuotaExceededException"},
		{utils.ProducerRequestHold, "ProducerBlockedQuotaExceededError"},
	} {
		t.Run(string(c.policy), func(t *testing.T) {
			srv := newServer(t)
			a := newAdmin(t, srv)
			client := newClient(t, srv)
			tn := topicName(t, "quota")
			if err := a.Topics().Create(tn, 0); err != nil {
				t.Fatal(err)
			}
			if err := a.Subscriptions().Create(tn, "slow", utils.Earliest); err != nil {
				t.Fatal(err)
			}
			produce(t, client, "quota", "one", "two")
			if err := a.Topics().SetBacklogQuota(tn, utils.NewBacklogQuota(10, -1, c.policy), utils.DestinationStorage); err != nil {
				t.Fatal(err)
			}
			quotas, err := a.Topics().GetBacklogQuotaMap(tn, false)
			if err != nil || quotas[utils.DestinationStorage].Policy != c.policy {
				t.Fatalf("quotas %v, %v", quotas, err)
			}
			_, err = client.CreateProducer(pulsar.ProducerOptions{Topic: "quota"})
			if err == nil || !strings.Contains(err.Error(), c.code) {
				t.Fatalf("CreateProducer over quota: %v, want %s", err, c.code)
			}
			// Consuming the backlog lifts the block.
			if err := a.Subscriptions().ClearBacklog(tn, "slow"); err != nil {
				t.Fatal(err)
			}
			prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "quota"})
			if err != nil {
				t.Fatalf("CreateProducer after the backlog was cleared: %v", err)
			}
			prod.Close()
			if err := a.Topics().RemoveBacklogQuota(tn, utils.DestinationStorage); err != nil {
				t.Fatal(err)
			}
			if quotas, _ := a.Topics().GetBacklogQuotaMap(tn, false); len(quotas) != 0 {
				t.Fatalf("quotas after remove %v", quotas)
			}
			// Namespace quotas apply to topics without their own.
			ns := "public/default"
			if err := a.Namespaces().SetBacklogQuota(ns, utils.NewBacklogQuota(1, -1, c.policy), utils.DestinationStorage); err != nil {
				t.Fatal(err)
			}
			nq, err := a.Namespaces().GetBacklogQuotaMap(ns)
			if err != nil || nq[utils.DestinationStorage].LimitSize != 1 {
				t.Fatalf("namespace quotas %v, %v", nq, err)
			}
			produce(t, client, "quota", "three")
			if _, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "quota"}); err == nil {
				t.Fatal("CreateProducer over the namespace quota succeeded")
			}
			if err := a.Namespaces().RemoveBacklogQuota(ns); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAdminTerminate(t *testing.T) {
	srv := newServer(t)
	a := newAdmin(t, srv)
	client := newClient(t, srv)
	ids := produce(t, client, "sealed", "a", "b")
	tn := topicName(t, "sealed")
	last, err := a.Topics().Terminate(tn)
	if err != nil || last.LedgerID != ids[1].LedgerID() || last.EntryID != ids[1].EntryID() {
		t.Fatalf("terminate: %+v, %v", last, err)
	}
	_, err = client.CreateProducer(pulsar.ProducerOptions{Topic: "sealed"})
	if err == nil || !strings.Contains(err.Error(), "TopicTerminated") {
		t.Fatalf("CreateProducer on a terminated topic: %v", err)
	}
	reader, err := client.CreateReader(pulsar.ReaderOptions{Topic: "sealed", StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	for _, want := range []string{"a", "b"} {
		m, err := reader.Next(ctxT(t, 10*time.Second))
		if err != nil || string(m.Payload()) != want {
			t.Fatalf("Next: %v, %v", m, err)
		}
	}
	if reader.HasNext() {
		t.Fatal("reader has more after the end of a terminated topic")
	}
	_, err = a.Topics().Terminate(topicName(t, "missing"))
	wantCode(t, err, 404)
	if err := a.Topics().Create(topicName(t, "parts"), 2); err != nil {
		t.Fatal(err)
	}
	_, err = a.Topics().Terminate(topicName(t, "parts"))
	wantCode(t, err, 405)
}

// A client given the admin URL looks topics up over HTTP, partitioned
// metadata included.
func TestHTTPServiceURL(t *testing.T) {
	srv := newServer(t, pulsartest.WithPartitionedTopic("via-http", 2))
	client, err := pulsar.NewClient(pulsar.ClientOptions{
		URL: srv.AdminURL(), OperationTimeout: 10 * time.Second, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "via-http", SubscriptionName: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	parts, err := client.TopicPartitions("via-http")
	if err != nil || len(parts) != 2 {
		t.Fatalf("partitions %v, %v", parts, err)
	}
	produce(t, client, "via-http", "x", "y", "z")
	if got := receive(t, cons, 3, 10*time.Second); len(got) != 3 {
		t.Fatalf("received %d", len(got))
	}
}

// Malformed and unknown admin requests get an error reply, never a crash.
func TestAdminBadRequests(t *testing.T) {
	srv := newServer(t)
	a := newAdmin(t, srv)
	tn := topicName(t, "bad")
	wantCode(t, a.Topics().Create(topicName(t, "persistent://public/default/bad"), -1), 406)
	_, err := a.Topics().GetStats(tn)
	wantCode(t, err, 404)
	_, err = a.Namespaces().GetPolicies("nobody/none")
	wantCode(t, err, 404)
	err = a.Schemas().CreateSchemaByPayload("public/default/bad", utils.PostSchemaPayload{SchemaType: "NOPE"})
	wantCode(t, err, 422)
	_, err = a.Topics().GetBacklogQuotaMap(tn, false)
	wantCode(t, err, 404)
	for i := range 3 {
		_, err = a.Topics().GetMessageID(topicName(t, fmt.Sprintf("none-%d", i)), 0)
		wantCode(t, err, 404)
	}
}

func nsName(t testing.TB, name string) utils.NameSpaceName {
	t.Helper()
	ns, err := utils.GetNamespaceName(name)
	if err != nil {
		t.Fatal(err)
	}
	return *ns
}
