package keyring_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nexus-health-360/nexus/security/keyring"
	"github.com/nexus-health-360/nexus/storage"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "keyring-example-")
	defer os.RemoveAll(dir)
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(dir, "example.db"), storage.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	if err := db.Migrate(ctx, keyring.Migrations()); err != nil {
		fmt.Println(err)
		return
	}

	text, _ := keyring.GenerateMasterKey()
	master, _ := keyring.ParseMasterKey(text)
	ring, err := keyring.Open(ctx, db, keyring.Config{MasterKey: master})
	if err != nil {
		fmt.Println(err)
		return
	}
	sealed, _ := ring.Seal([]byte("Patient body"), []byte("Patient/1/1"))
	version, _, _ := storage.ParseSealed(sealed)
	fmt.Println("sealed under version", version)

	next, _ := ring.Rotate(ctx)
	plain, _ := ring.Open(sealed, []byte("Patient/1/1"))
	fmt.Printf("active version %d still opens %q\n", next, plain)

	_, err = ring.Open(sealed, []byte("Patient/2/1"))
	fmt.Println("moved to another row:", err != nil)

	_, err = keyring.Open(ctx, db, keyring.Config{})
	fmt.Println(err)
	// Output:
	// sealed under version 1
	// active version 2 still opens "Patient body"
	// moved to another row: true
	// keyring config: MasterKey: keyring: master key missing
}
