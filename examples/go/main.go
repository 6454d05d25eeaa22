// A recorder in Go publishing a call or a user edit to a Tandem site, with nothing of Tandem's own code.
//
// It follows docs/recorders.md: the audio goes first to the site's object store with the AWS SDK for Go
// v2, under the key the contract fixes; then the event goes to the site's topic (`calls.completed` or
// `users.changed`), keyed by the call or user id, with the five Tandem headers, in the Confluent wire
// format with the latest schema registered under the topic's subject (franz-go's kgo and sr, hamba/avro).
//
//	record-call --site site.json --call call.json --audio call.wav
//	record-call --site site.json --user user.json
//
// The files are those of examples/python/record_call.py. Prints the ids; exits 1 with one line on stderr
// when anything fails.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// Tandem's own publisher derives a call's event id so; any derivation that gives one id per call keeps a
// retried publication idempotent.
var callEventNamespace = uuid.MustParse("6f1f7a52-3c1e-4a55-9b43-0c8f1d2e5a10")

type Site struct {
	Site     string   `json:"site"`
	Kafka    []string `json:"kafka"`
	Registry string   `json:"registry"`
	S3       struct {
		Endpoint        string `json:"endpoint"`
		Region          string `json:"region"`
		Bucket          string `json:"bucket"`
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
	} `json:"s3"`
}

type Party struct {
	Number string  `json:"number" avro:"number"`
	Name   *string `json:"name" avro:"name"`
}

type AudioRef struct {
	ObjectKey    string `json:"objectKey" avro:"objectKey"`
	SizeBytes    int64  `json:"sizeBytes" avro:"sizeBytes"`
	Sha256       string `json:"sha256" avro:"sha256"`
	ContentType  string `json:"contentType" avro:"contentType"`
	Codec        string `json:"codec" avro:"codec"`
	Channels     int32  `json:"channels" avro:"channels"`
	SampleRateHz int32  `json:"sampleRateHz" avro:"sampleRateHz"`
}

// CallCompleted as in schemas/CallCompleted.avsc.
type CallCompleted struct {
	EventID            string            `json:"-" avro:"eventId"`
	CallID             string            `json:"callId" avro:"callId"`
	TenantID           string            `json:"tenantId" avro:"tenantId"`
	GroupID            string            `json:"groupId" avro:"groupId"`
	ParticipantUserIDs []string          `json:"participantUserIds" avro:"participantUserIds"`
	OriginSite         string            `json:"-" avro:"originSite"`
	RecorderID         string            `json:"recorderId" avro:"recorderId"`
	Direction          string            `json:"direction" avro:"direction"`
	Caller             Party             `json:"caller" avro:"caller"`
	Callee             Party             `json:"callee" avro:"callee"`
	StartedAtMs        int64             `json:"startedAtMs" avro:"startedAtMs"`
	EndedAtMs          int64             `json:"endedAtMs" avro:"endedAtMs"`
	DurationMs         int64             `json:"durationMs" avro:"durationMs"`
	Audio              *AudioRef         `json:"audio" avro:"audio"`
	Attributes         map[string]string `json:"attributes" avro:"attributes"`
}

type Hlc struct {
	WallTimeMs int64 `json:"wallTimeMs" avro:"wallTimeMs"`
	Logical    int32 `json:"logical" avro:"logical"`
}

type UserFields struct {
	Name       *string  `json:"name" avro:"name"`
	Email      *string  `json:"email" avro:"email"`
	Extensions []string `json:"extensions" avro:"extensions"`
	Role       *string  `json:"role" avro:"role"`
	Active     *bool    `json:"active" avro:"active"`
}

// UserChanged as in schemas/UserChanged.avsc.
type UserChanged struct {
	EventID       string         `avro:"eventId"`
	UserID        string         `avro:"userId"`
	TenantID      string         `avro:"tenantId"`
	GroupID       string         `avro:"groupId"`
	Operation     string         `avro:"operation"`
	ChangedFields []string       `avro:"changedFields"`
	Fields        UserFields     `avro:"fields"`
	Hlc           Hlc            `avro:"hlc"`
	BaseVersion   map[string]Hlc `avro:"baseVersion"`
	OriginSite    string         `avro:"originSite"`
}

// UserEdit is the user file of `tandem publish user` (examples/publish/user.json).
type UserEdit struct {
	UserID      string                     `json:"userId"`
	TenantID    string                     `json:"tenantId"`
	GroupID     string                     `json:"groupId"`
	Operation   string                     `json:"operation"`
	Changes     map[string]json.RawMessage `json:"changes"`
	BaseVersion map[string]Hlc             `json:"baseVersion"`
	EventID     string                     `json:"eventId"`
}

// Mistakes a recorder can make, each with the outcome docs/recorders.md documents: the conformance test
// (test/integration/recorder-conformance.test.ts) makes them on purpose.
var mistakes = []string{"missing-header", "wrong-key", "other-sha256", "no-upload"}

func audioObjectKey(tenantID string, startedAtMs int64, callID string) string {
	day := time.UnixMilli(startedAtMs).UTC().Format("2006/01/02")
	return fmt.Sprintf("tenants/%s/%s/%s.wav", tenantID, day, callID)
}

func sha256AndSize(path string) (string, int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer file.Close()
	digest := sha256.New()
	size, err := io.Copy(digest, file)
	return hex.EncodeToString(digest.Sum(nil)), size, err
}

func s3Client(site *Site) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(site.S3.Endpoint),
		Region:       site.S3.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(site.S3.AccessKeyID, site.S3.SecretAccessKey, ""),
		// S3Proxy (and other S3-compatible servers) need path-style addressing and refuse the checksum
		// trailers the SDK sends by default.
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func upload(ctx context.Context, site *Site, path, key, contentType string, size int64) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	_, err = s3Client(site).PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(site.S3.Bucket),
		Key:           aws.String(key),
		Body:          file,
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(contentType),
	})
	return err
}

// encoder serializes to the Confluent wire format with the latest schema of `<topic>-value` (Confluent's
// use.latest.version). A registry that has none yet gets the repository's schema, as auto.register would,
// under a subject set to BACKWARD first: the level the contract fixes, which Tandem's own publishers
// at the site insist on.
func encoder(ctx context.Context, registry, topic, schemaFile string, value any) (*sr.Serde, error) {
	client, err := sr.NewClient(sr.URLs(registry))
	if err != nil {
		return nil, err
	}
	subject := topic + "-value"
	latest, err := client.SchemaByVersion(ctx, subject, -1)
	var missing *sr.ResponseError
	if errors.As(err, &missing) && missing.StatusCode == http.StatusNotFound {
		text, readErr := os.ReadFile(schemaFile)
		if readErr != nil {
			return nil, readErr
		}
		backward := sr.SetCompatibility{Level: sr.CompatBackward}
		if err := client.SetCompatibility(ctx, backward, subject)[0].Err; err != nil {
			return nil, fmt.Errorf("registry %s: %w", subject, err)
		}
		latest, err = client.CreateSchema(ctx, subject, sr.Schema{Schema: string(text), Type: sr.TypeAvro})
	}
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", subject, err)
	}
	schema, err := avro.Parse(latest.Schema.Schema)
	if err != nil {
		return nil, err
	}
	serde := sr.NewSerde()
	serde.Register(latest.ID, value, sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(schema, v) }))
	return serde, nil
}

// send publishes one event to the site's topic, keyed, with the headers.
func send(ctx context.Context, site *Site, topic, schemaFile, key string, event any, headers []kgo.RecordHeader) error {
	serde, err := encoder(ctx, site.Registry, topic, schemaFile, event)
	if err != nil {
		return err
	}
	value, err := serde.Encode(event)
	if err != nil {
		return err
	}
	// The defaults match the contract: acks=all, idempotence on, Java's murmur2 for keyed records (a call
	// lands on the partition Tandem's publisher would choose), and snappy batches, which Tandem reads.
	client, err := kgo.NewClient(kgo.SeedBrokers(site.Kafka...))
	if err != nil {
		return err
	}
	defer client.Close()
	record := &kgo.Record{Topic: topic, Key: []byte(key), Value: value, Headers: headers}
	return client.ProduceSync(ctx, record).FirstErr()
}

func tandemHeaders(eventID, site, tenantID, groupID, mistake string) []kgo.RecordHeader {
	all := []kgo.RecordHeader{
		{Key: "tandem-event-id", Value: []byte(eventID)},
		{Key: "tandem-origin", Value: []byte(site)},
		{Key: "tandem-path", Value: []byte(site)},
		{Key: "tandem-tenant", Value: []byte(tenantID)},
		{Key: "tandem-group", Value: []byte(groupID)},
	}
	if mistake == "missing-header" {
		return all[:3]
	}
	return all
}

func publishCall(ctx context.Context, site *Site, callFile, audioFile, schemas, mistake string) (string, error) {
	var call CallCompleted
	if err := readJSON(callFile, &call); err != nil {
		return "", err
	}
	if call.Audio == nil {
		return "", fmt.Errorf("%s: audio: must describe the recording (contentType, codec, ...)", callFile)
	}
	sha, size, err := sha256AndSize(audioFile)
	if err != nil {
		return "", err
	}
	call.EventID = uuid.NewSHA1(callEventNamespace, []byte(call.CallID)).String()
	call.OriginSite = site.Site
	call.Audio.ObjectKey = audioObjectKey(call.TenantID, call.StartedAtMs, call.CallID)
	call.Audio.SizeBytes = size
	call.Audio.Sha256 = sha
	if mistake == "other-sha256" {
		other := sha256.Sum256([]byte("not the recording"))
		call.Audio.Sha256 = hex.EncodeToString(other[:])
	}

	// 1. The audio first: an event must never name an object that is not there yet.
	if mistake != "no-upload" {
		err := upload(ctx, site, audioFile, call.Audio.ObjectKey, call.Audio.ContentType, size)
		if err != nil {
			return "", fmt.Errorf("upload %s: %w", call.Audio.ObjectKey, err)
		}
	}

	// 2. Then the event.
	key := call.CallID
	if mistake == "wrong-key" {
		key = call.EventID
	}
	schema := filepath.Join(schemas, "CallCompleted.avsc")
	headers := tandemHeaders(call.EventID, site.Site, call.TenantID, call.GroupID, mistake)
	if err := send(ctx, site, "calls.completed", schema, key, call, headers); err != nil {
		return "", err
	}
	return fmt.Sprintf("call %s event %s", call.CallID, call.EventID), nil
}

func publishUser(ctx context.Context, site *Site, userFile, schemas string) (string, error) {
	var edit UserEdit
	if err := readJSON(userFile, &edit); err != nil {
		return "", err
	}
	event := UserChanged{
		EventID:       edit.EventID,
		UserID:        edit.UserID,
		TenantID:      edit.TenantID,
		GroupID:       edit.GroupID,
		Operation:     edit.Operation,
		ChangedFields: []string{},
		// The edit is this writer's latest: a real recorder keeps a hybrid logical clock and bases its
		// edit on the version it read (an empty base conflicts with any concurrent edit of the same field).
		Hlc:         Hlc{WallTimeMs: time.Now().UnixMilli()},
		BaseVersion: edit.BaseVersion,
		OriginSite:  site.Site,
	}
	if event.EventID == "" {
		event.EventID = uuid.NewString()
	}
	if event.BaseVersion == nil {
		event.BaseVersion = map[string]Hlc{}
	}
	targets := map[string]any{
		"name": &event.Fields.Name, "email": &event.Fields.Email, "extensions": &event.Fields.Extensions,
		"role": &event.Fields.Role, "active": &event.Fields.Active,
	}
	for field, raw := range edit.Changes {
		target, known := targets[field]
		if !known {
			return "", fmt.Errorf("%s: changes.%s: not a user field", userFile, field)
		}
		if err := json.Unmarshal(raw, target); err != nil {
			return "", fmt.Errorf("%s: changes.%s: %w", userFile, field, err)
		}
		event.ChangedFields = append(event.ChangedFields, field)
	}

	schema := filepath.Join(schemas, "UserChanged.avsc")
	headers := tandemHeaders(event.EventID, site.Site, event.TenantID, event.GroupID, "")
	if err := send(ctx, site, "users.changed", schema, event.UserID, event, headers); err != nil {
		return "", err
	}
	return fmt.Sprintf("user %s event %s", event.UserID, event.EventID), nil
}

func readJSON(path string, into any) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(text, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func run() (string, error) {
	siteFile := flag.String("site", "", "the site's endpoints (JSON)")
	callFile := flag.String("call", "", "the call's fields (JSON), with --audio")
	audioFile := flag.String("audio", "", "the call's audio file")
	userFile := flag.String("user", "", "a user edit (JSON), instead of a call")
	schemas := flag.String("schemas", "schemas", "the folder of the .avsc files, registered where the registry has none")
	mistake := flag.String("mistake", "", "for the conformance test only: "+strings.Join(mistakes, ", "))
	flag.Parse()
	if *siteFile == "" || (*userFile == "") == (*callFile == "" || *audioFile == "") {
		return "", errors.New("usage: --site site.json (--call call.json --audio call.wav | --user user.json)")
	}
	if *mistake != "" && (*callFile == "" || !slices.Contains(mistakes, *mistake)) {
		return "", fmt.Errorf("--mistake: with --call, one of %s", strings.Join(mistakes, ", "))
	}
	var site Site
	if err := readJSON(*siteFile, &site); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if *userFile != "" {
		return publishUser(ctx, &site, *userFile, *schemas)
	}
	return publishCall(ctx, &site, *callFile, *audioFile, *schemas, *mistake)
}

func main() {
	line, err := run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "record-call: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(line)
}
