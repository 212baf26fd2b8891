package security_test

import (
	"context"
	"fmt"

	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/security/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

func ExampleParseScope() {
	s, err := security.ParseScope("patient/Observation.write")
	fmt.Println(s.Interactions, err)
	_, err = security.ParseScope("patient/Observation.sr")
	fmt.Println(err)
	// Output:
	// cud <nil>
	// parse scope "patient/Observation.sr": want context/Type.cruds: invalid
}

func ExampleService_Decide() {
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite:"+tempDB(), storage.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, sqlstore.Migrations()); err != nil {
		panic(err)
	}
	ward := security.CareRelationsFunc(func(_ context.Context, p *security.Principal) ([]string, error) {
		return []string{"p1", "p2"}, nil
	})
	svc, err := security.New(security.Config{Store: sqlstore.New(db), Issuer: "https://ehr.example", CareRelations: ward})
	if err != nil {
		panic(err)
	}
	nurse := &security.Principal{Subject: "nurse1", Kind: security.KindUser,
		Roles: []security.Role{security.RoleNurse}, Scopes: security.ParseScopes("user/*.rs").Resource}
	d, err := svc.Decide(ctx, nurse, security.Request{Type: "Observation", Interaction: security.Search})
	fmt.Println(d.AllPatients, d.Patients, err)
	_, err = svc.Decide(ctx, nurse, security.Request{Type: "Observation", Interaction: security.Delete})
	fmt.Println(err)
	// Output:
	// false [p1 p2] <nil>
	// decide delete Observation for nurse1: forbidden
}
