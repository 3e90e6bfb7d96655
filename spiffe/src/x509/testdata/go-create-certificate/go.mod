module signet.test/go-create-certificate

go 1.22
