module procman/peers/go

go 1.19
