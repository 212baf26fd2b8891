package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/security/keyring"
	secsql "github.com/nexus-health-360/nexus/security/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

// masterKeyFileFlag names the flag with the path of the master key file.
const masterKeyFileFlag = "master-key-file"

// masterKeyFlag returns the --master-key-file flag. The key itself may come
// from NEXUS_MASTER_KEY instead, which is not a flag so that it never
// appears in a process listing.
func masterKeyFlag() cli.Flag {
	return &cli.StringFlag{Name: masterKeyFileFlag, EnvVars: []string{"NEXUS_MASTER_KEY_FILE"},
		Usage: "file with the base64 master key that unlocks encryption at rest (mode 600), " +
			"or set " + keyring.EnvMasterKey + " instead. Without either, stored data is not encrypted"}
}

// dataKeys names where the master key comes from. Both fields empty mean
// no master key.
type dataKeys struct {
	file string
	text string
}

// masterKeyFrom reads the --master-key-file flag and NEXUS_MASTER_KEY.
func masterKeyFrom(c *cli.Context) dataKeys {
	return dataKeys{file: c.String(masterKeyFileFlag), text: os.Getenv(keyring.EnvMasterKey)}
}

// masterKeyFromEnv reads NEXUS_MASTER_KEY and NEXUS_MASTER_KEY_FILE, for
// commands without the flag.
func masterKeyFromEnv() dataKeys {
	return dataKeys{file: os.Getenv("NEXUS_MASTER_KEY_FILE"), text: os.Getenv(keyring.EnvMasterKey)}
}

// load returns the master key, or nil when none is configured.
func (k dataKeys) load() ([]byte, error) {
	switch {
	case k.file != "" && k.text != "":
		return nil, fmt.Errorf("both --%s and %s are set: give the master key one way", masterKeyFileFlag, keyring.EnvMasterKey)
	case k.file != "":
		return keyring.ReadMasterKeyFile(k.file)
	case k.text != "":
		key, err := keyring.ParseMasterKey(k.text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyring.EnvMasterKey, err)
		}
		return key, nil
	}
	return nil, nil
}

// protectDB opens the key ring of db under the configured master key and
// sets it as the DB's cipher and hasher. Without a master key it returns a
// nil ring when the database holds no data keys, and an error when it
// does, so that nexusd never writes plaintext next to encrypted rows. The
// schema must be migrated.
func protectDB(ctx context.Context, db *storage.DB, keys dataKeys, log *slog.Logger) (*keyring.Ring, error) {
	master, err := keys.load()
	if err != nil {
		return nil, err
	}
	if master == nil {
		inUse, err := keyring.InUse(ctx, db)
		if err != nil {
			return nil, err
		}
		if inUse {
			return nil, fmt.Errorf("the database holds encrypted data: give the master key with --%s or %s: %w",
				masterKeyFileFlag, keyring.EnvMasterKey, keyring.ErrMasterKeyMissing)
		}
		log.Warn("encryption at rest is off: set a master key in production", "flag", "--"+masterKeyFileFlag, "env", keyring.EnvMasterKey)
		return nil, nil
	}
	ring, err := keyring.Open(ctx, db, keyring.Config{MasterKey: master, Logger: log})
	if err != nil {
		if errors.Is(err, keyring.ErrWrongMasterKey) {
			return nil, fmt.Errorf("%w: the master key does not match the one this database was encrypted with", err)
		}
		return nil, err
	}
	db.Cipher, db.Hasher = ring, ring
	return ring, nil
}

// ringOf returns the key ring protectDB set on db, or nil.
func ringOf(db *storage.DB) *keyring.Ring {
	ring, _ := db.Cipher.(*keyring.Ring)
	return ring
}

// rewrappers lists the stores on db whose sealed rows a rewrap moves, and
// the pass that hashes identifier index rows left in plaintext.
func rewrappers(db *storage.DB) []storage.Rewrapper {
	emr := emrStore(db)
	return []storage.Rewrapper{emr, emr.IdentifierIndex(), auditStore(db), secsql.New(db)}
}

// openKeyAdmin opens the database for a key command, which needs the
// master key.
func openKeyAdmin(c *cli.Context) (*storage.DB, *keyring.Ring, error) {
	log, err := newLogger(c)
	if err != nil {
		return nil, nil, err
	}
	db, err := openChecked(c.Context, c.String("db"))
	if err != nil {
		return nil, nil, err
	}
	keys := masterKeyFrom(c)
	if master, err := keys.load(); err != nil || master == nil {
		db.Close()
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("key commands need the master key: give --%s or set %s", masterKeyFileFlag, keyring.EnvMasterKey)
	}
	ring, err := protectDB(c.Context, db, keys, log)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, ring, nil
}

// printKeyStatus writes the key versions of db and, per store, the rows by
// key version and the rewrap progress. It only reads, so a database
// written without a master key stays without data keys.
func printKeyStatus(c *cli.Context, db *storage.DB) error {
	inUse, err := keyring.InUse(c.Context, db)
	if err != nil {
		return err
	}
	if !inUse {
		fmt.Fprintln(c.App.Writer, "no data key versions: encryption at rest is off for this database")
		return nil
	}
	versions, err := keyring.Versions(c.Context, db)
	if err != nil {
		return err
	}
	for _, v := range versions {
		fmt.Fprintf(c.App.Writer, "version %d\t%s\tcreated %s\tsince %s\n", v.Version, v.State,
			v.CreatedAt.Format(time.RFC3339), v.StateChangedAt.Format(time.RFC3339))
	}
	for _, s := range rewrappers(db) {
		usage, err := s.KeyVersionUsage(c.Context)
		if err != nil {
			return err
		}
		p, err := keyring.ReadProgress(c.Context, db, s.Component())
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "%s: rows by key version %v; rewrap to version %d reached the end: %t\n",
			s.Component(), usage, p.TargetVersion, p.Done)
	}
	return nil
}

func init() {
	registerKeySubcommand(func() *cli.Command {
		return &cli.Command{
			Name:  "status",
			Usage: "list the data key versions and the rewrap progress of each store; reads only and needs no master key",
			Flags: []cli.Flag{dbFlag(), masterKeyFlag()},
			Action: func(c *cli.Context) error {
				db, err := openChecked(c.Context, c.String("db"))
				if err != nil {
					return err
				}
				defer db.Close()
				return printKeyStatus(c, db)
			},
		}
	})
	registerKeySubcommand(func() *cli.Command {
		return &cli.Command{
			Name:  "rotate-data",
			Usage: "create a new active data key version; run `nexusd keys rewrap` or serve to move rows to it",
			Flags: []cli.Flag{dbFlag(), masterKeyFlag()},
			Action: func(c *cli.Context) error {
				db, ring, err := openKeyAdmin(c)
				if err != nil {
					return err
				}
				defer db.Close()
				version, err := ring.Rotate(c.Context)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "data key version %d is active\n", version)
				return nil
			},
		}
	})
	registerKeySubcommand(func() *cli.Command {
		return &cli.Command{
			Name:  "rewrap",
			Usage: "seal every row still under an older data key version again under the active one, reading every row from the start",
			Flags: []cli.Flag{dbFlag(), masterKeyFlag()},
			Action: func(c *cli.Context) error {
				db, ring, err := openKeyAdmin(c)
				if err != nil {
					return err
				}
				defer db.Close()
				for _, s := range rewrappers(db) {
					p, err := ring.RewrapFromStart(c.Context, s)
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "%s: %d rows rewrapped to version %d\n", s.Component(), p.RewrappedThisRun, p.TargetVersion)
				}
				return nil
			},
		}
	})
	registerKeySubcommand(func() *cli.Command {
		return &cli.Command{
			Name:      "retire",
			Usage:     "erase a decrypt-only data key version that no row uses any more",
			ArgsUsage: "VERSION",
			Flags:     []cli.Flag{dbFlag(), masterKeyFlag()},
			Action: func(c *cli.Context) error {
				for _, arg := range c.Args().Tail() {
					if strings.HasPrefix(arg, "-") {
						return fmt.Errorf("keys retire: flag %s after VERSION: give the flags first, as in `nexusd keys retire --db URL VERSION`", arg)
					}
				}
				version, err := strconv.ParseUint(c.Args().First(), 10, 32)
				if err != nil || c.NArg() != 1 {
					return fmt.Errorf("keys retire: give one key version number, as listed by `nexusd keys status`")
				}
				db, ring, err := openKeyAdmin(c)
				if err != nil {
					return err
				}
				defer db.Close()
				if err := ring.Retire(c.Context, uint32(version), rewrappers(db)...); err != nil {
					if errors.Is(err, keyring.ErrInUse) {
						return fmt.Errorf("%w (run `nexusd keys rewrap` once every process has reloaded the keys, then retire again)", err)
					}
					return err
				}
				fmt.Fprintf(c.App.Writer, "data key version %d retired\n", version)
				return nil
			},
		}
	})
	registerKeySubcommand(func() *cli.Command {
		return &cli.Command{
			Name:  "generate-master",
			Usage: "print a new random master key as base64, for --" + masterKeyFileFlag + " or " + keyring.EnvMasterKey,
			Action: func(c *cli.Context) error {
				text, err := keyring.GenerateMasterKey()
				if err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, text)
				return nil
			},
		}
	})
}
